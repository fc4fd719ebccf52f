// The coordinator of the tiny queue run in its own process (for the kill -9 test): argv folder, redis URL. Prints
// 'open' once the store is open and the queue connected, 'done' at the end. Test-only.
import { parseRunConfig } from '../run-config.ts';
import { KILL_TEST_CONFIG } from './tiny-run-process.ts';
import { tinyQueueRun } from './tiny-queue-run.ts';

const [dir, url] = process.argv.slice(2);
const { store, queue } = await tinyQueueRun({ dir: dir!, url: url!, config: parseRunConfig(KILL_TEST_CONFIG), onOpen: () => process.stdout.write('open\n') });
store.close();
await queue.close();
process.stdout.write('done\n');
