import { Type, type Static } from 'typebox';
import type { RegionsTable } from '../../db/types.js';
import type { Selectable } from 'kysely';
import { toIso } from '../../shared/clock.js';
import { PageSchema, PaginationQuerySchema, TextSchema, TimestampSchema, UuidSchema } from '../../shared/schemas.js';

const closed = { additionalProperties: false } as const;
const RegionNameSchema = TextSchema(120, { description: 'Display name.', examples: ['Maharashtra'] });

export const RegionSchema = Type.Object(
  {
    id: UuidSchema,
    code: Type.String({ examples: ['MH'] }),
    name: Type.String({ examples: ['Maharashtra'] }),
    parent_id: Type.Union([UuidSchema, Type.Null()]),
    path: Type.String({ description: 'Codes from the root, each followed by /: the region and its sub-regions share this prefix.', examples: ['IN/MH/'] }),
    created_at: TimestampSchema,
    updated_at: TimestampSchema,
  },
  { description: 'A region of the territory tree.' },
);
export type Region = Static<typeof RegionSchema>;

export const CreateRegionBodySchema = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 20, pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$', description: 'Unique across all regions; stored upper-case.', examples: ['MH'] }),
    name: RegionNameSchema,
    parent_id: Type.Optional(UuidSchema),
  },
  { ...closed, examples: [{ code: 'MH', name: 'Maharashtra', parent_id: '01936f4e-7c1a-7d3e-9a51-2b4c6d8e0f12' }] },
);
export type CreateRegionBody = Static<typeof CreateRegionBodySchema>;

export const UpdateRegionBodySchema = Type.Object({ name: RegionNameSchema }, { ...closed, description: 'Only the name changes; code and place in the tree are fixed.' });

export const RegionListQuerySchema = Type.Object(
  { parent_id: Type.Optional(UuidSchema), ...PaginationQuerySchema },
  closed,
);
export type RegionListQuery = Static<typeof RegionListQuerySchema>;

export const RegionPageSchema = PageSchema(RegionSchema);

export function toRegionResponse(row: Selectable<RegionsTable>): Region {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    parent_id: row.parent_id,
    path: row.path,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}
