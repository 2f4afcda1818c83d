import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone } from '../helpers/app.js';
import { startInstances, type Instance } from './instances.js';
import { CuttableProxy } from './proxy.js';

let cluster: Awaited<ReturnType<typeof startInstances>>;
let api: Instance;
const proxy = new CuttableProxy({ host: new URL(process.env.TEST_DATABASE_URL!).hostname, port: Number(new URL(process.env.TEST_DATABASE_URL!).port || 5432) });
beforeAll(async () => {
  await proxy.open();
  cluster = await startInstances(1, {}, { connectDatabaseVia: (url) => {
    const viaProxy = new URL(url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    return viaProxy.toString();
  } });
  api = cluster.instances[0]!;
});
afterAll(() => cluster.stop());

describe('database outage under load', () => {
  it('answers 503 with Retry-After while PostgreSQL is unreachable, recovers without a restart, and loses or half-writes nothing', async () => {
    const outcomes: Array<{ phone: string; status: number }> = [];
    const wave = async () => {
      const phones = Array.from({ length: 10 }, () => nextPhone());
      const answers = await Promise.all(phones.map((phone) =>
        api.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { phone_number: phone, full_name: 'Outage Test', password: 'monsoon tea on the ghats' } })));
      answers.forEach((answer, i) => outcomes.push({ phone: phones[i]!, status: answer.statusCode }));
      return answers;
    };

    expect((await wave()).map((r) => r.statusCode)).toEqual(Array(10).fill(201));
    const inFlight = wave();
    await proxy.cut();
    await inFlight;
    const during = await wave();
    expect(during.map((r) => r.statusCode)).toEqual(Array(10).fill(503));
    expect(during[0]!.headers['retry-after']).toBeDefined();
    expect(during[0]!.json().code).toBe('SERVICE_UNAVAILABLE');
    expect((await api.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503);

    await proxy.open();
    let ready = false;
    for (let i = 0; i < 40 && !ready; i++) {
      ready = (await api.app.inject({ method: 'GET', url: '/health/ready' })).statusCode === 200;
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(ready).toBe(true);
    expect((await wave()).map((r) => r.statusCode)).toEqual(Array(10).fill(201));

    expect(outcomes.every((o) => o.status === 201 || o.status === 503)).toBe(true);
    for (const outcome of outcomes) {
      const user = await cluster.direct.selectFrom('users').select('id').where('phone_number', '=', outcome.phone).executeTakeFirst();
      if (outcome.status === 201) expect(user, `201 for ${outcome.phone} but no user row`).toBeDefined();
      if (user) {
        const audit = await cluster.direct.selectFrom('audit_events').select('action').where('entity_id', '=', user.id).where('action', '=', 'user.registered').execute();
        expect(audit, `user ${outcome.phone} without its audit event`).toHaveLength(1);
      }
    }
  }, 60_000);
});
