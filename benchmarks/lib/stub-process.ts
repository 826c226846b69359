/**
 * The bench stub in a child process of its own, so a benchmark measures its own event loop and CPU
 * alone. The child answers the message 'stats' with its RSS and CPU time, 'lateness' with how late
 * its writes ran since the last ask (stubLateness), and exits with its parent.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startOpenAIStub, type OpenAIStubOptions, type StubLateness } from './openai-stub.js';

const CHILD_MARK = '__openai_stub_child__';

export interface ProcessStats {
  rss: number;
  cpuMs: number;
}

export function startStubProcess(opts: OpenAIStubOptions): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(fileURLToPath(import.meta.url), [CHILD_MARK, JSON.stringify(opts)], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { url: string }) => resolve({ child, url: m.url }));
    child.once('exit', (code) => reject(new Error(`stub child exited with code ${code}`)));
  });
}

/** How late the stub child's writes ran against their due times since the last ask. */
export function stubLateness(child: ChildProcess): Promise<StubLateness> {
  return new Promise((resolve) => {
    child.once('message', (m: { lateness: StubLateness }) => resolve(m.lateness));
    child.send('lateness');
  });
}

async function serveAsChild(opts: OpenAIStubOptions): Promise<void> {
  const stub = await startOpenAIStub(opts);
  process.send?.({ url: stub.url });
  process.on('message', (m: unknown) => {
    if (m === 'lateness') process.send?.({ lateness: stub.writeLateness() });
    if (m !== 'stats') return;
    const cpu = process.cpuUsage();
    process.send?.({ rss: process.memoryUsage().rss, cpuMs: (cpu.user + cpu.system) / 1000 } satisfies ProcessStats);
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[2] === CHILD_MARK && process.send) await serveAsChild(JSON.parse(process.argv[3]) as OpenAIStubOptions);
