// The testbed labeler's prompts, exactly as the feedback layer's PairwiseJudge and PointwiseJudge render them with
// the testbed templates (templates/*.yaml): the judging examples the labeler is trained on use these, and a test
// checks them against what the judges really send. Leaves out few-shot examples and reference answers (unused here).
import { fileURLToPath } from 'node:url';
import type { ChatMessage } from '../feedback/chat-model-v1.ts';
import { renderConversation } from '../feedback/judgment-types.ts';
import { loadTemplate, renderTemplate, type PromptTemplate } from '../feedback/prompt-template.ts';

export const testbedTemplateDirectory = fileURLToPath(new URL('./templates/', import.meta.url));

export function testbedTemplates(): { pairwise: PromptTemplate; pointwise: PromptTemplate; critiqueRevision: PromptTemplate } {
  return {
    pairwise: loadTemplate('pairwise', testbedTemplateDirectory), pointwise: loadTemplate('pointwise', testbedTemplateDirectory),
    critiqueRevision: loadTemplate('critique-revision', testbedTemplateDirectory),
  };
}

/** The conversation as the judges render it, with the reference text (retrieved notes) after it when there is one. */
function withReference(template: PromptTemplate, conversation: ChatMessage[], reference: string): string {
  return renderConversation(conversation) + (reference ? `\n\n${template.referenceLabel}: ${reference}` : '');
}

/** The pairwise judge's first request: system (rule) + user (conversation, notes, both answers). */
export function pairwiseRequest(template: PromptTemplate, principle: string, conversation: ChatMessage[], first: string, second: string, reference = ''): ChatMessage[] {
  return [
    { role: 'system', content: renderTemplate(template.preamble, { principle }, template.path) },
    { role: 'user', content: renderTemplate(template.context, { fewShot: '', conversation: withReference(template, conversation, reference), response1: first, response2: second }, template.path) },
  ];
}

/** The pointwise judge's first request: system (rule) + user (conversation, notes, the answer). */
export function pointwiseRequest(template: PromptTemplate, principle: string, conversation: ChatMessage[], response: string, reference = ''): ChatMessage[] {
  return [
    { role: 'system', content: renderTemplate(template.preamble, { principle }, template.path) },
    { role: 'user', content: renderTemplate(template.context, { conversation: withReference(template, conversation, reference), response }, template.path) },
  ];
}

/** The critique → revision requests as CritiqueReviser sends them: [system, user] asks for the critique; the revision
 * request follows the critique. */
export function critiqueRevisionRequests(template: PromptTemplate, principle: { critique: string; revision: string }, conversation: ChatMessage[], response: string): { critique: ChatMessage[]; revision: ChatMessage } {
  const values = { conversation: renderConversation(conversation), response, critiqueRequest: principle.critique, revisionRequest: principle.revision };
  return {
    critique: [{ role: 'system', content: template.preamble }, { role: 'user', content: renderTemplate(template.context, values, template.path) }],
    revision: { role: 'user', content: renderTemplate(template.verdictRequest!, values, template.path) },
  };
}
