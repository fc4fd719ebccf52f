import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildKey, MODEL_CODE_FILES } from './cache-key.ts';
import { testbedConfigSchema } from './testbed-config.ts';

test('cache key: a changed config value changes it (defaults filled in by the schema), the schema file\'s text does not enter it', () => {
  const defaults = testbedConfigSchema.parse({});
  assert.equal(buildKey(0, 'self', defaults), buildKey(0, 'self', testbedConfigSchema.parse({})));
  assert.notEqual(buildKey(0, 'self', defaults), buildKey(0, 'self', testbedConfigSchema.parse({ corpus: { copyStories: 1 } })), 'a value set in a config');
  assert.notEqual(buildKey(0, 'self', defaults), buildKey(1, 'self', defaults), 'the seed');
  // A default changed in the schema reaches the key through the parsed config, like a value set in a config file.
  assert.notEqual(buildKey(0, 'self', defaults), buildKey(0, 'self', { ...defaults, anchor: { ...defaults.anchor, size: defaults.anchor.size + 1 } }));
  assert.ok(!MODEL_CODE_FILES.includes('testbed-config.ts'), 'descriptions are not code: rewording one must not retrain the models');
  assert.ok(MODEL_CODE_FILES.includes('corpus.ts') && MODEL_CODE_FILES.includes('embedded-model.ts'));
});
