import { createHmac } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';

export interface SecurityAlert {
  id: string;
  kind: string;
  severity: string;
  occurred_at: string;
  user_id: string | null;
  ip_address: string | null;
  details: unknown;
}

export interface AlertSink {
  send(alert: SecurityAlert): void;
}

/** Default: alerts are warn-level log lines, picked up by log shipping. */
export function createLogAlertSink(log: FastifyBaseLogger): AlertSink {
  return { send: (alert) => log.warn({ security_alert: alert }, `security alert: ${alert.kind}`) };
}

/**
 * Posts each alert as JSON with `X-Bima-Signature: sha256=<hmac>` over
 * `<timestamp>.<body>` (and `X-Bima-Timestamp`), so the receiver can check
 * origin and freshness. Delivery is in the background with retries and
 * backoff: a slow or dead receiver never delays a request.
 */
export function createWebhookAlertSink(options: { url: string; secret: string; log: FastifyBaseLogger; retries?: number; timeoutMs?: number; backoffMs?: number }): AlertSink & { idle(): Promise<void> } {
  const pending = new Set<Promise<void>>();
  const deliver = async (alert: SecurityAlert) => {
    const body = JSON.stringify(alert);
    for (let attempt = 0; attempt <= (options.retries ?? 3); attempt++) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signature = createHmac('sha256', options.secret).update(`${timestamp}.${body}`).digest('hex');
      try {
        const response = await fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-bima-timestamp': timestamp, 'x-bima-signature': `sha256=${signature}` },
          body,
          signal: AbortSignal.timeout(options.timeoutMs ?? 3000),
        });
        if (response.ok) return;
      } catch {
        // retried below
      }
      await new Promise((resolve) => setTimeout(resolve, (options.backoffMs ?? 500) * 2 ** attempt));
    }
    options.log.error({ alert_id: alert.id, kind: alert.kind }, 'security alert webhook failed after retries');
  };
  return {
    send(alert) {
      const delivery = deliver(alert).finally(() => pending.delete(delivery));
      pending.add(delivery);
    },
    async idle() {
      await Promise.all([...pending]);
    },
  };
}
