import type { Selectable } from 'kysely';
import { Type, type Static, type TSchema } from 'typebox';
import { DOCUMENT_TYPES, type AgentDocumentsTable } from '../../db/types.js';
import { toIso } from '../../shared/clock.js';
import { PaginationQuerySchema, TextSchema, TimestampSchema, UuidSchema } from '../../shared/schemas.js';

export type DocumentRow = Selectable<AgentDocumentsTable>;

const closed = { additionalProperties: false } as const;
const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const DOCUMENT_CONTENT_TYPES = ['application/pdf', 'image/jpeg', 'image/png'] as const;
export type DocumentContentType = (typeof DOCUMENT_CONTENT_TYPES)[number];
export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;

export const DocumentTypeSchema = Type.Enum(DOCUMENT_TYPES);

export const DocumentSchema = Type.Object(
  {
    id: UuidSchema,
    agent_id: UuidSchema,
    type: DocumentTypeSchema,
    content_type: Type.Enum(DOCUMENT_CONTENT_TYPES, { description: 'Recognised from the bytes, never from the file name.' }),
    size_bytes: Type.Integer(),
    sha256: Type.String({ description: 'SHA-256 of the bytes (hex).' }),
    original_name: nullable(Type.String()),
    aadhaar_masked: nullable(Type.String({ description: 'Only the last four digits, e.g. XXXX-XXXX-1234.' })),
    status: Type.Enum(['pending', 'verified', 'rejected'] as const),
    review_notes: nullable(Type.String()),
    reviewed_by: nullable(UuidSchema),
    reviewed_at: nullable(TimestampSchema),
    uploaded_by: UuidSchema,
    created_at: TimestampSchema,
  },
  { description: 'A document an agent uploaded for verification.' },
);
export type AgentDocument = Static<typeof DocumentSchema>;

export function toDocumentResponse(row: DocumentRow): AgentDocument {
  return {
    id: row.id,
    agent_id: row.agent_id,
    type: row.type,
    content_type: row.content_type,
    size_bytes: row.size_bytes,
    sha256: row.sha256,
    original_name: row.original_name,
    aadhaar_masked: row.aadhaar_masked,
    status: row.status,
    review_notes: row.review_notes,
    reviewed_by: row.reviewed_by,
    reviewed_at: row.reviewed_at ? toIso(row.reviewed_at) : null,
    uploaded_by: row.uploaded_by,
    created_at: toIso(row.created_at),
  };
}

/** The multipart fields, checked after parsing (multipart bodies do not pass through the JSON validator). */
export interface UploadInput {
  type: string | undefined;
  aadhaarNumber: string | undefined;
  file: { bytes: Buffer; filename: string | undefined } | undefined;
}

export const UploadBodyDescription = 'multipart/form-data with fields `type` (license, pan, aadhaar, photo, education, bank_proof), `file` (PDF, JPEG or PNG, at most 10 MB) and, for type aadhaar, optionally `aadhaar_number` (stored masked).';

export const DocumentParamsSchema = Type.Object({ agent_id: UuidSchema, document_id: UuidSchema }, closed);
export const DocumentListQuerySchema = Type.Object({ type: Type.Optional(DocumentTypeSchema), ...PaginationQuerySchema }, closed);

export const ReviewBodySchema = Type.Object(
  {
    decision: Type.Enum(['verified', 'rejected'] as const),
    notes: Type.Optional(TextSchema(1000, { description: 'What was checked, or why it was rejected.' })),
  },
  { ...closed, examples: [{ decision: 'verified', notes: 'Matches the IRDAI register' }] },
);
export type ReviewBody = Static<typeof ReviewBodySchema>;
