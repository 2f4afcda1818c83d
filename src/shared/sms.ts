import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { AppError } from './errors.js';

/** Every outgoing SMS, whatever the provider, is exactly this object (CONTRACT.md). */
export interface SmsMessage {
  to: string;
  purpose: string;
  text: string;
}

export interface SmsSender {
  send(message: SmsMessage): Promise<void>;
}

/** Development: the message goes to the log so a developer can read the code. */
export function createLogSms(log: FastifyBaseLogger): SmsSender {
  return {
    async send(message) {
      log.info({ sms: message }, 'sms (log provider)');
    },
  };
}

/** JSON lines appended to a file: for staging, demos and end-to-end tests. */
export function createOutboxSms(file: string): SmsSender {
  let ready: Promise<unknown> | undefined;
  return {
    async send(message) {
      ready ??= mkdir(dirname(file), { recursive: true });
      await ready;
      await appendFile(file, `${JSON.stringify(message)}\n`, { mode: 0o600 });
    },
  };
}

/** A real gateway: POST {to, purpose, text}; any failure is a generic 503 to the client. */
export function createHttpSms(options: { url: string; token?: string; timeoutMs: number; log: FastifyBaseLogger }): SmsSender {
  return {
    async send(message) {
      try {
        const response = await fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
          body: JSON.stringify(message),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        if (!response.ok) throw new Error(`gateway answered ${response.status}`);
      } catch (error) {
        options.log.error({ err: error, to: message.to.slice(0, -4) + '****' }, 'sms gateway failed');
        throw new AppError('SMS_UNAVAILABLE', 503, 'We could not send the message right now; try again shortly.', { retryAfterS: 30 });
      }
    },
  };
}

/** Tests: keeps what was sent, and can be told to fail. */
export class MemorySms implements SmsSender {
  readonly sent: SmsMessage[] = [];
  failing = false;

  async send(message: SmsMessage): Promise<void> {
    if (this.failing) throw new AppError('SMS_UNAVAILABLE', 503, 'We could not send the message right now; try again shortly.', { retryAfterS: 30 });
    this.sent.push(message);
  }

  lastCodeFor(phone: string, purpose?: string): string | undefined {
    const message = [...this.sent].reverse().find((m) => m.to === phone && (!purpose || m.purpose === purpose));
    return message?.text.match(/\b(\d{6})\b/)?.[1];
  }
}
