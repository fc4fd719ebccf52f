// Runs the scripted OpenAI server in its own process (for benchmarks: server and client must not share an event loop).
// Usage: node --import tsx scripted-server-process.ts '<ScriptedServerOptions as JSON>'; prints "URL <base url>" then
// serves until stdin closes or SIGTERM. Leaves out everything the in-process server does not do.
import { startScriptedServer, type ScriptedServerOptions } from './scripted-openai-server.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as ScriptedServerOptions;
const server = await startScriptedServer(options);
process.stdout.write(`URL ${server.url}\n`);
const stop = async (): Promise<void> => {
  await server.close();
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
