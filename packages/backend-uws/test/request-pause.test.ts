import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { EventLoop, HttpRequest, HttpResponse } from '@loop/core';
import { statuses, withServer, until } from './helpers.js';

// request.pause() stops the body's events (and uWS's reading) until resume(): chunks already read
// are held and delivered, in order and before `end`, in a poll phase after resume(). Waits are
// for events (a recorded array that reaches a state), never for the machine being fast.

/** A client socket that collects what comes back. */
function client(port: number): { socket: Socket; received: () => string; closed: Promise<void> } {
  const socket = connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { socket, received: () => Buffer.concat(chunks).toString('latin1'), closed };
}

/** Resume `request` from a loop timer `ms` from now, recording 'resume' first. */
function resumeLater(loop: EventLoop, request: HttpRequest, log: string[], ms: number): void {
  loop.timer(() => {
    log.push('resume');
    request.resume();
  }).start(ms);
}

function answerAtEnd(request: HttpRequest, response: HttpResponse, log: string[]): void {
  request.on({
    data: (chunk) => log.push(`data:${Buffer.from(chunk).toString()}`),
    end: () => {
      log.push('end');
      response.respond(200, {}, log.join(','));
    },
  });
}

describe('request.pause() and resume()', () => {
  it('holds a body that arrived with the head until resume(), then delivers it before end', () => {
    const log: string[] = [];
    let loopRef: EventLoop | undefined;
    return withServer(
      {},
      (request, response) => {
        answerAtEnd(request, response, log);
        request.pause();
        request.pause(); // a second pause is the same pause
        log.push('paused');
        resumeLater(loopRef as EventLoop, request, log, 50);
      },
      async (server, loop) => {
        loopRef = loop;
        const { socket, received, closed } = client(server.address.port);
        socket.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world');
        await closed;
        expect(statuses(received())).toEqual([200]);
        expect(log).toEqual(['paused', 'resume', 'data:hello world', 'end']);
      },
    );
  });

  it('goes on delivering chunks that arrive after the held ones were released', () => {
    const log: string[] = [];
    let loopRef: EventLoop | undefined;
    return withServer(
      {},
      (request, response) => {
        answerAtEnd(request, response, log);
        request.pause();
        resumeLater(loopRef as EventLoop, request, log, 30);
      },
      async (server, loop) => {
        loopRef = loop;
        const { socket, received, closed } = client(server.address.port);
        socket.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhello');
        await until(() => log.includes('data:hello'));
        socket.write('world');
        await closed;
        expect(statuses(received())).toEqual([200]);
        expect(log).toEqual(['resume', 'data:hello', 'data:world', 'end']);
      },
    );
  });

  it('delivers nothing while paused from a data callback, then the rest in order once resumed', () => {
    const log: string[] = [];
    let loopRef: EventLoop | undefined;
    return withServer(
      {},
      (request, response) => {
        request.on({
          data: (chunk) => {
            log.push(`data:${Buffer.from(chunk).toString()}`);
            if (log.length === 1) {
              request.pause();
              resumeLater(loopRef as EventLoop, request, log, 50);
            }
          },
          end: () => {
            log.push('end');
            response.respond(200, {}, 'ok');
          },
        });
      },
      async (server, loop) => {
        loopRef = loop;
        const { socket, received, closed } = client(server.address.port);
        socket.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\nConnection: close\r\n\r\nfirst');
        await until(() => log.length > 0);
        socket.write('secon');
        await closed;
        expect(statuses(received())).toEqual([200]);
        expect(log[0]).toBe('data:first');
        expect(log[1]).toBe('resume');
        expect(log.slice(2, -1).map((entry) => entry.slice(5)).join('')).toBe('secon');
        expect(log.at(-1)).toBe('end');
      },
    );
  });

  it('holds end too when the whole body was delivered and the request paused before end ran', () => {
    const log: string[] = [];
    let loopRef: EventLoop | undefined;
    return withServer(
      {},
      (request, response) => {
        request.on({
          data: (chunk) => {
            log.push(`data:${Buffer.from(chunk).toString()}`);
            request.pause();
            request.pause();
            resumeLater(loopRef as EventLoop, request, log, 50);
          },
          end: () => {
            log.push('end');
            response.respond(200, {}, 'ok');
          },
        });
      },
      async (server, loop) => {
        loopRef = loop;
        const { socket, received, closed } = client(server.address.port);
        socket.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nConnection: close\r\n\r\nall!');
        await closed;
        expect(statuses(received())).toEqual([200]);
        expect(log).toEqual(['data:all!', 'resume', 'end']);
      },
    );
  });

  it('stops delivering again when a held chunk\'s callback pauses, and goes on at the next resume()', () => {
    const log: string[] = [];
    let loopRef: EventLoop | undefined;
    let resumes = 0;
    return withServer(
      {},
      (request, response) => {
        request.on({
          data: (chunk) => {
            log.push(`data:${Buffer.from(chunk).toString()}`);
            if (resumes < 2) {
              request.pause();
              resumes++;
              resumeLater(loopRef as EventLoop, request, log, 30);
            }
          },
          end: () => {
            log.push('end');
            response.respond(200, {}, 'ok');
          },
        });
        request.pause();
        resumeLater(loopRef as EventLoop, request, log, 30);
      },
      async (server, loop) => {
        loopRef = loop;
        const { socket, received, closed } = client(server.address.port);
        socket.write('POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n');
        // Three chunks in one packet behind the head: uWS hands them over while the request is paused.
        socket.write('1\r\na\r\n1\r\nb\r\n1\r\nc\r\n0\r\n\r\n');
        await closed;
        expect(statuses(received())).toEqual([200]);
        const data = log.filter((entry) => entry.startsWith('data:')).map((entry) => entry.slice(5));
        expect(data.join('')).toBe('abc');
        // After each pause nothing comes before the next resume; end comes last.
        for (let i = 0; i < log.length - 1; i++) {
          const entry = log[i] as string;
          if (entry.startsWith('data:') && data.indexOf(entry.slice(5)) < 2) expect(log[i + 1]).toBe('resume');
        }
        expect(log.at(-1)).toBe('end');
        expect(log.filter((entry) => entry === 'resume')).toHaveLength(3);
      },
    );
  });

  it('lets resume() without pause(), and pause() or resume() after the response ended, change nothing', () => {
    const log: string[] = [];
    let loopRef: EventLoop | undefined;
    return withServer(
      {},
      (request, response) => {
        request.resume();
        request.on({
          data: (chunk) => log.push(`data:${Buffer.from(chunk).toString()}`),
          end: () => {
            log.push('end');
            response.respond(200, {}, 'ok');
            request.pause();
            loopRef?.timer(() => {
              request.resume();
              log.push('resumed after the end');
            }).start(10);
          },
        });
      },
      async (server, loop) => {
        loopRef = loop;
        const { socket, received, closed } = client(server.address.port);
        socket.write('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc');
        await closed;
        await until(() => log.length === 3);
        expect(statuses(received())).toEqual([200]);
        expect(log).toEqual(['data:abc', 'end', 'resumed after the end']);
      },
    );
  });
});
