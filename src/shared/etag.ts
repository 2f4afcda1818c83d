import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from './errors.js';

/**
 * Weak entity tags from a row's version column. Comparison is weak on both
 * headers: the tag names a version of the resource, not a byte-exact body.
 */
export function etagOf(version: number): string {
  return `W/"${version}"`;
}

function listedTags(header: string): string[] {
  return header.split(',').map((tag) => tag.trim().replace(/^W\//, '')).filter(Boolean);
}

function names(header: string, version: number): boolean {
  const tags = listedTags(header);
  return tags.includes('*') || tags.includes(`"${version}"`);
}

/** If-Match: absent means "no precondition"; present and naming another version means someone changed it since. */
export function assertIfMatch(header: string | undefined, version: number): void {
  if (header === undefined || names(header, version)) return;
  throw new AppError('PRECONDITION_FAILED', 412, 'This record changed since you read it; fetch it again and reapply your change.', {
    headers: { etag: etagOf(version) },
  });
}

/** If-None-Match on a read: true when the client's copy is current (answer 304). */
export function isNotModified(header: string | undefined, version: number): boolean {
  return header !== undefined && names(header, version);
}

/**
 * Answers a read of a versioned resource: the ETag always, and 304 with no
 * body when the client's If-None-Match already names this version.
 */
export function replyVersioned<T>(request: FastifyRequest, reply: FastifyReply, version: number, body: T): FastifyReply | T {
  reply.header('etag', etagOf(version));
  if (isNotModified(request.headers['if-none-match'], version)) return reply.code(304).send();
  return body;
}
