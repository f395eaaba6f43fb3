// The README's examples, run as written there (the seed examples from the issue, the
// GUI example from python-greenlet's documentation, and the API examples).
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Greenlet, GreenletExit, getcurrent, greenlet } from '../src/index.js';

describe('README examples', () => {
  it('seed 1: gr1 and gr2 print 12 56 34, and 78 never runs', () => {
    const printed: unknown[] = [];
    const print = (x: unknown) => printed.push(x);

    function* test1() {
      print(12);
      yield* gr2.switch();
      print(34);
    }
    function* test2() {
      print(56);
      yield* gr1.switch();
      print(78);
    }
    const gr1 = greenlet(test1);
    const gr2 = greenlet(test2);
    gr1.switch();

    expect(printed).toEqual([12, 56, 34]);
    expect([gr1.dead, gr2.dead]).toEqual([true, false]);
  });

  it('seed 2: gr1.switch() returns gr2\'s return value after 12 56 78', () => {
    const printed: unknown[] = [];
    const print = (x: unknown) => printed.push(x);

    function* test1() {
      print(12);
      yield* gr2.switch();
      print(34);
      return '1 return';
    }
    function* test2() {
      print(56);
      print(78);
      return '2 return';
    }
    const gr1 = greenlet(test1);
    const gr2 = greenlet(test2);
    print(gr1.switch());

    expect(printed).toEqual([12, 56, 78, '2 return']);
    expect([gr1.dead, gr2.dead]).toEqual([false, true]);
  });

  it('the one rule: a helper frame between run and the switch is called with yield*', () => {
    const printed: string[] = [];
    function* readLine(): Generator<unknown, string, unknown> {
      return (yield* (getcurrent().parent as Greenlet).switch()) as string; // the switch: yield*
    }
    function* handle() {
      const line = yield* readLine(); // a frame on the way to a switch: yield* too
      printed.push(line);
    }
    const handler = greenlet(handle);
    handler.switch(); // main: a plain call; runs handle until it waits
    expect(printed).toEqual([]);
    handler.switch('hello\n'); // resumes it with a line; prints it
    expect(printed).toEqual(['hello\n']);
  });

  it('GUI: a command processor greenlet is fed one key at a time by an event callback', async () => {
    const output: string[] = [];

    // Reads like blocking input, but waits for the next keydown event.
    function* readNextChar(): Generator<unknown, string, unknown> {
      return (yield* (getcurrent().parent as Greenlet).switch()) as string; // back to the event loop
    }

    function* processCommands() {
      for (;;) {
        let line = '';
        while (!line.endsWith('\n')) line += yield* readNextChar();
        if (line === 'quit\n') {
          output.push('are you sure?');
          if ((yield* readNextChar()) !== 'y') continue; // ignore the command
          output.push('bye');
          return;
        }
        output.push(`command: ${line.trimEnd()}`);
      }
    }

    const gProcessor = greenlet(processCommands);
    gProcessor.switch(); // runs until it waits for the first key

    const keyboard = new EventEmitter();
    keyboard.on('keydown', (key: string) => {
      gProcessor.switch(key); // jump into the processor, sending it the key
    });

    // The "GUI main loop": each key arrives in its own event-loop turn.
    for (const key of 'hello\nquit\nnquit\ny') {
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          keyboard.emit('keydown', key);
          resolve();
        }),
      );
    }

    expect(output).toEqual(['command: hello', 'are you sure?', 'are you sure?', 'bye']);
    expect(gProcessor.dead).toBe(true);
  });

  it('API: a greenlet receives switch values and returns its result to the parent', () => {
    const g = new Greenlet(function* (a: number) {
      const b = (yield* (this.parent as Greenlet).switch(a + 1)) as number; // back to main with 2
      return a + b; // main's second switch gets 10
    });
    expect(g.switch(1)).toBe(2);
    expect(g.switch(9)).toBe(10);
  });

  it('API: an echo greenlet answers each switch', () => {
    const echo = greenlet(function* (first: string) {
      let line = first;
      for (;;) line = (yield* (getcurrent().parent as Greenlet).switch(`echo: ${line}`)) as string;
    });
    expect(echo.switch('a')).toBe('echo: a');
    expect(echo.switch('b')).toBe('echo: b');
  });

  it('API: throw() with no argument kills a suspended greenlet', () => {
    const worker = greenlet(function* () {
      yield* (getcurrent().parent as Greenlet).switch();
    });
    worker.switch();
    const killed: unknown = worker.throw();
    expect(killed).toBeInstanceOf(GreenletExit);
    expect(worker.dead).toBe(true);
  });
});
