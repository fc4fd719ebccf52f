// A child process for the run store's kill -9 test: opens the store at argv[2] and appends samples 0..count-1
// (writer-sample.ts), the same sequence on every start, so a restarted writer continues where the killed one stopped.
import { RunStore } from '../run-store.ts';
import { writerSample } from './writer-sample.ts';

const [dir, countText] = process.argv.slice(2);
const store = RunStore.open(dir!, { test: 'kill' });
process.stdout.write('open\n');
for (let i = 0; i < Number(countText); i++) store.put(writerSample(i));
store.close();
