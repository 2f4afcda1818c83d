import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type SignedIn, type TestContext } from '../../../test/helpers/app.js';
import {
  createActiveAgent, createProvider, createRegion, multipart, PDF, PNG, signInProviderAdmin, signInRegionalManager, type AgentFixture, type RegionFixture,
} from '../../../test/helpers/factories-directory.js';
import { sha256Hex } from '../../shared/document-store.js';
import { computeVerhoeffCheckDigit } from '../../shared/validators.js';

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]), Buffer.alloc(64), Buffer.from([0xff, 0xd9])]);
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62), Buffer.from('PE\0\0'), Buffer.alloc(256)]);
const TEXT = Buffer.from('This is a plain text file that only claims to be a PDF.\n');
const AADHAAR = `23456789012${computeVerhoeffCheckDigit('23456789012')}`;

let ctx: TestContext;
let region: RegionFixture;
let agent: AgentFixture;
let senior: AgentFixture;
let stranger: AgentFixture;
let providerId: string;

function upload(who: { headers: Record<string, string> }, agentId: string, fields: Record<string, string>, file?: Parameters<typeof multipart>[1]) {
  const body = multipart(fields, file);
  return ctx.app.inject({ method: 'POST', url: `/api/v1/agents/${agentId}/documents`, headers: { ...who.headers, ...body.headers }, payload: body.payload });
}

beforeAll(async () => {
  ctx = await buildTestApp();
  providerId = (await createProvider(ctx, { type: 'life' })).id;
  region = await createRegion(ctx);
  senior = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [providerId], regionId: region.id });
  agent = await createActiveAgent(ctx, { providerIds: [providerId], regionId: region.id, status: 'pending_approval', managerAgentId: senior.agentId });
  stranger = await createActiveAgent(ctx, { providerIds: [(await createProvider(ctx, { type: 'health' })).id], regionId: (await createRegion(ctx)).id });
});

afterAll(async () => {
  await ctx.close();
});

describe('uploading', () => {
  it('a pending agent uploads PDF, PNG and JPEG documents, recognised by their bytes', async () => {
    for (const [bytes, type, filename] of [[PDF, 'application/pdf', 'licence.pdf'], [PNG, 'image/png', 'photo.jpg'], [JPEG, 'image/jpeg', 'degree']] as const) {
      const res = await upload(agent, agent.agentId, { type: 'education' }, { bytes, filename, contentType: 'application/octet-stream' });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ agent_id: agent.agentId, type: 'education', content_type: type, size_bytes: bytes.length, sha256: sha256Hex(bytes), status: 'pending', uploaded_by: agent.userId });
    }
  });

  it('an executable or a text file named .pdf is refused with 415, whatever the name and declared type say', async () => {
    for (const bytes of [EXE, TEXT]) {
      const res = await upload(agent, agent.agentId, { type: 'license' }, { bytes, filename: 'licence.pdf', contentType: 'application/pdf' });
      expect(res.statusCode).toBe(415);
      expect(res.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('a file over 10 MB is refused with 413', async () => {
    const big = Buffer.concat([PDF, Buffer.alloc(10 * 1024 * 1024 + 1 - PDF.length, 0x20)]);
    const res = await upload(agent, agent.agentId, { type: 'license' }, { bytes: big });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('a JSON body is a 415; a missing or unknown type, a missing file or an unknown field is a 422', async () => {
    const json = await ctx.app.inject({ method: 'POST', url: `/api/v1/agents/${agent.agentId}/documents`, headers: agent.headers, payload: { type: 'license' } });
    expect(json.statusCode).toBe(415);
    expect((await upload(agent, agent.agentId, {}, { bytes: PDF })).json().errors).toEqual([{ path: '/type', message: expect.stringContaining('must be one of') }]);
    expect((await upload(agent, agent.agentId, { type: 'passport' }, { bytes: PDF })).statusCode).toBe(422);
    expect((await upload(agent, agent.agentId, { type: 'license' })).json().errors[0].path).toBe('/file');
    expect((await upload(agent, agent.agentId, { type: 'license', colour: 'red' }, { bytes: PDF })).json().errors[0].path).toBe('/colour');
    expect((await upload(agent, agent.agentId, { type: 'license' }, { bytes: PDF, field: 'attachment' })).json().errors[0].path).toBe('/attachment');
  });

  it('an Aadhaar number is checked (Verhoeff) and only its last four digits are ever kept', async () => {
    const ok = await upload(agent, agent.agentId, { type: 'aadhaar', aadhaar_number: `${AADHAAR.slice(0, 4)} ${AADHAAR.slice(4, 8)} ${AADHAAR.slice(8)}` }, { bytes: PNG });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().aadhaar_masked).toBe(`XXXX-XXXX-${AADHAAR.slice(8)}`);
    const stored = await ctx.database.db.selectFrom('agent_documents').selectAll().where('id', '=', ok.json().id).executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(AADHAAR.slice(0, 8));
    const audit = await ctx.database.db.selectFrom('audit_events').select('changes').where('entity_id', '=', ok.json().id).executeTakeFirstOrThrow();
    expect(JSON.stringify(audit.changes)).not.toContain(AADHAAR.slice(0, 8));
    const wrongDigit = `${AADHAAR.slice(0, 11)}${(Number(AADHAAR[11]) + 1) % 10}`;
    expect((await upload(agent, agent.agentId, { type: 'aadhaar', aadhaar_number: wrongDigit }, { bytes: PNG })).json().errors[0].path).toBe('/aadhaar_number');
    expect((await upload(agent, agent.agentId, { type: 'pan', aadhaar_number: AADHAAR }, { bytes: PNG })).statusCode).toBe(422);
  });

  it('nobody uploads for another agent: a stranger gets 404, the provider admin 403', async () => {
    expect((await upload(stranger, agent.agentId, { type: 'pan' }, { bytes: PDF })).statusCode).toBe(404);
    const providerAdmin = await signInProviderAdmin(ctx, providerId);
    expect((await upload(providerAdmin, agent.agentId, { type: 'pan' }, { bytes: PDF })).statusCode).toBe(403);
  });
});

describe('reading and reviewing', () => {
  let documentId: string;
  let manager: SignedIn;

  beforeAll(async () => {
    documentId = (await upload(agent, agent.agentId, { type: 'pan' }, { bytes: PDF, filename: '../../etc/pan card.pdf' })).json().id;
    manager = await signInRegionalManager(ctx, region.id);
  });

  it('the content comes back as a download with its recognised type and nosniff', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${agent.agentId}/documents/${documentId}/content`, headers: agent.headers });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(PDF)).toBe(true);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="pan-${documentId}.pdf"`);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const list = await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${agent.agentId}/documents?type=pan`, headers: agent.headers });
    expect(list.json().items.find((d: { id: string }) => d.id === documentId)).toMatchObject({ original_name: 'pan card.pdf' });
  });

  it('another agent, the agent\'s own senior and another region\'s manager get 404 for the list and the content', async () => {
    const elsewhere = await signInRegionalManager(ctx, (await createRegion(ctx)).id);
    const otherAdmin = await signInProviderAdmin(ctx, (await createProvider(ctx)).id);
    for (const who of [stranger, senior, elsewhere, otherAdmin]) {
      expect((await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${agent.agentId}/documents`, headers: who.headers })).statusCode).toBe(404);
      expect((await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${agent.agentId}/documents/${documentId}/content`, headers: who.headers })).statusCode).toBe(404);
    }
    const ownDocumentUnderOtherAgent = await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${stranger.agentId}/documents/${documentId}/content`, headers: stranger.headers });
    expect(ownDocumentUnderOtherAgent.statusCode).toBe(404);
  });

  it('the provider admin reads the documents but may not review them', async () => {
    const providerAdmin = await signInProviderAdmin(ctx, providerId);
    expect((await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${agent.agentId}/documents`, headers: providerAdmin.headers })).statusCode).toBe(200);
    const review = await ctx.app.inject({ method: 'POST', url: `/api/v1/agents/${agent.agentId}/documents/${documentId}/review`, headers: providerAdmin.headers, payload: { decision: 'verified' } });
    expect(review.statusCode).toBe(403);
    const self = await ctx.app.inject({ method: 'POST', url: `/api/v1/agents/${agent.agentId}/documents/${documentId}/review`, headers: agent.headers, payload: { decision: 'verified' } });
    expect(self.statusCode).toBe(403);
  });

  it('the regional manager rejects a pending document once, with notes, audited; a second review is a 409', async () => {
    const elsewhere = await signInRegionalManager(ctx, (await createRegion(ctx)).id);
    const url = `/api/v1/agents/${agent.agentId}/documents/${documentId}/review`;
    expect((await ctx.app.inject({ method: 'POST', url, headers: elsewhere.headers, payload: { decision: 'verified' } })).statusCode).toBe(404);
    const rejected = await ctx.app.inject({ method: 'POST', url, headers: manager.headers, payload: { decision: 'rejected', notes: 'Blurred scan' } });
    expect(rejected.json()).toMatchObject({ status: 'rejected', review_notes: 'Blurred scan', reviewed_by: manager.userId });
    expect((await ctx.app.inject({ method: 'POST', url, headers: manager.headers, payload: { decision: 'verified' } })).json().code).toBe('INVALID_TRANSITION');
    const audit = await ctx.database.db.selectFrom('audit_events').select(['action', 'actor_id']).where('entity_id', '=', documentId).where('action', '=', 'agent.document_reviewed').execute();
    expect(audit).toEqual([{ action: 'agent.document_reviewed', actor_id: manager.userId }]);
  });
});
