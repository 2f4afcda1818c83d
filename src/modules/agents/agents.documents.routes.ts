import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../container.js';
import { AppError, validationFailed } from '../../shared/errors.js';
import { PageSchema, problems } from '../../shared/schemas.js';
import { AgentParamsSchema } from './agents.schemas.js';
import { extensionOf } from './agents.documents.service.js';
import * as s from './agents.documents.schemas.js';

const bearer = [{ bearerAuth: [] }];
const tags = ['agents'];
const FIELD_BYTES = 1024;
const TOO_MANY_PARTS = new Set(['FST_FILES_LIMIT', 'FST_FIELDS_LIMIT', 'FST_PARTS_LIMIT']);

/** Reads the upload's parts into memory (one file of at most 10 MB, a few small fields); files past the limit fail with 413. */
async function readUpload(request: FastifyRequest): Promise<s.UploadInput> {
  if (!request.isMultipart()) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 415, 'Send multipart/form-data with the fields type and file.');
  const input: s.UploadInput = { type: undefined, aadhaarNumber: undefined, file: undefined };
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        const bytes = await part.toBuffer();
        if (part.fieldname !== 'file') throw validationFailed([{ path: `/${part.fieldname}`, message: 'is not an accepted field; send the file as file' }]);
        input.file = { bytes, filename: part.filename };
      } else if (part.valueTruncated) {
        throw validationFailed([{ path: `/${part.fieldname}`, message: `is longer than ${FIELD_BYTES} bytes` }]);
      } else if (part.fieldname === 'type') {
        input.type = String(part.value);
      } else if (part.fieldname === 'aadhaar_number') {
        input.aadhaarNumber = String(part.value);
      } else {
        throw validationFailed([{ path: `/${part.fieldname}`, message: 'is not an accepted field' }]);
      }
    }
  } catch (error) {
    if (TOO_MANY_PARTS.has((error as { code?: string }).code ?? '')) throw new AppError('PAYLOAD_TOO_LARGE', 413, 'Send one file and at most a few fields.');
    if (error instanceof AppError || (error as { statusCode?: number }).statusCode !== undefined) throw error;
    // What the multipart parser (busboy) throws itself: no boundary, a body cut short, a malformed part header.
    throw new AppError('BAD_REQUEST', 400, 'The multipart body is malformed; send multipart/form-data with a boundary and the fields type and file.');
  }
  return input;
}

/** An agent's documents; multipart parsing is registered here only, not for the whole API. */
const documentRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { agentDocuments } = services;
  await app.register(multipart, { limits: { fileSize: s.MAX_DOCUMENT_BYTES, files: 1, fields: 5, fieldSize: FIELD_BYTES } });

  app.post('/agents/:agent_id/documents', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'Upload a document (the agent itself, or its regional manager)', security: bearer, consumes: ['multipart/form-data'],
      description: s.UploadBodyDescription, params: AgentParamsSchema, response: { 201: s.DocumentSchema, ...problems(401, 403, 404, 413, 415, 422) },
    },
  }, async (request, reply) => {
    const row = await agentDocuments.upload(request.requirePrincipal(), request.params.agent_id, () => readUpload(request), request.auditContext());
    return reply.code(201).send(s.toDocumentResponse(row));
  });

  app.get('/agents/:agent_id/documents', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'The agent\'s documents', security: bearer,
      params: AgentParamsSchema, querystring: s.DocumentListQuerySchema, response: { 200: PageSchema(s.DocumentSchema), ...problems(401, 404, 422) },
    },
  }, async (request) => {
    const page = await agentDocuments.list(request.requirePrincipal(), request.params.agent_id, request.query);
    return { items: page.items.map(s.toDocumentResponse), next_cursor: page.next_cursor };
  });

  app.get('/agents/:agent_id/documents/:document_id/content', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'The document\'s bytes, as a download', security: bearer, produces: [...s.DOCUMENT_CONTENT_TYPES],
      params: s.DocumentParamsSchema, response: { 200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'The file, with its recognised content type.' }), ...problems(401, 404) },
    },
  }, async (request, reply) => {
    const { row, bytes } = await agentDocuments.content(request.requirePrincipal(), request.params.agent_id, request.params.document_id);
    // A download, never rendered in place: the browser must not sniff or display what an agent uploaded.
    return reply
      .header('content-type', row.content_type)
      .header('content-disposition', `attachment; filename="${row.type}-${row.id}.${extensionOf(row.content_type)}"`)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'private, no-store')
      .send(bytes);
  });

  app.post('/agents/:agent_id/documents/:document_id/review', {
    preHandler: app.authorize('agent.review'),
    schema: {
      tags, summary: 'Verify or reject a pending document (regional manager of the agent, super_admin)', security: bearer,
      params: s.DocumentParamsSchema, body: s.ReviewBodySchema, response: { 200: s.DocumentSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request) => {
    const { agent_id, document_id } = request.params;
    return s.toDocumentResponse(await agentDocuments.review(request.requirePrincipal(), agent_id, document_id, request.body, request.auditContext()));
  });
};

export default documentRoutes;
