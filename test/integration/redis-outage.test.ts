import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../src/bootstrap.js';
import { PasswordHasher } from '../../src/modules/auth/auth.passwords.js';
import { systemClock } from '../../src/shared/clock.js';
import { nextPhone, TEST_PASSWORD } from '../helpers/app.js';
import { startInstances, type Instance } from './instances.js';
import { CuttableProxy } from './proxy.js';

const redis = new URL(process.env.TEST_REDIS_URL!);
const proxy = new CuttableProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
let cluster: Awaited<ReturnType<typeof startInstances>>;
let api: Instance;
beforeAll(async () => {
  await proxy.open();
  const viaProxy = new URL(process.env.TEST_REDIS_URL!);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  cluster = await startInstances(1, {}, { redisUrl: viaProxy.toString() });
  api = cluster.instances[0]!;
});
afterAll(() => cluster.stop());

describe('Redis outage', () => {
  it('sign-in fails closed with 503 while authenticated reads keep working, and both recover without a restart', async () => {
    const phone = nextPhone();
    await createAccount(cluster.direct, new PasswordHasher(), systemClock, { phone, password: TEST_PASSWORD, fullName: 'Redis Outage', role: 'policyholder' });
    const login = () => api.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { method: 'password', phone_number: phone, password: TEST_PASSWORD } });
    const pair = (await login()).json();
    const me = () => api.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${pair.access_token}` } });

    await proxy.cut();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const refused = await login();
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBeDefined();
    expect((await me()).statusCode).toBe(200);
    expect((await api.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503);

    await proxy.open();
    let back = false;
    for (let i = 0; i < 60 && !back; i++) {
      back = (await login()).statusCode === 200;
      if (!back) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(back).toBe(true);
    expect((await api.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
  }, 60_000);
});
