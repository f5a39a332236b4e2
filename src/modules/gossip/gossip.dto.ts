/**
 * Wire schemas of the node-to-node gossip endpoints. Anything that fails them is
 * a 400 with the standard error body and changes nothing; votes that pass them
 * may still be rejected (and counted) by the gossip core.
 */
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import {
  MAX_LATENCY_MS,
  MAX_SIGNATURE_CHARS,
  NODE_ID_PATTERN,
  SITE_ID_PATTERN,
  VOTE_FAILURES,
} from '@/core/consensus/vote';
import { GOSSIP_LIMITS } from '@/core/gossip/gossip-engine';
import { REJECT_REASONS } from '@/core/gossip/gossip.types';
import { MAX_PROOF_CHARS, PROOF_PATTERN } from './vote-batch.codec';

const nodeId = z.string().regex(NODE_ID_PATTERN, 'expected 1-64 characters of [A-Za-z0-9._-]');
const epochMs = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const address = z
  .string()
  .min(3)
  .max(255)
  .regex(/^[^\s/]+:\d{1,5}$/, 'expected host:port');

export const voteSchema = z.strictObject({
  siteId: z.string().regex(SITE_ID_PATTERN, 'expected 1-128 characters of [A-Za-z0-9._:-]'),
  round: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  validatorId: nodeId,
  region: nodeId,
  up: z.boolean(),
  latencyMs: z.number().int().min(0).max(MAX_LATENCY_MS),
  httpStatus: z.number().int().min(100).max(599).optional(),
  failure: z.enum(VOTE_FAILURES).optional(),
  checkedAt: epochMs,
  /** absent or empty: counted as unsigned, not a 400 */
  signature: z.string().max(MAX_SIGNATURE_CHARS).optional(),
  /** with a proof, the signature signs the validator's batch root (index.size.base64 siblings) */
  proof: z
    .string()
    .max(MAX_PROOF_CHARS)
    .regex(PROOF_PATTERN, 'expected index.size.base64 of the Merkle siblings')
    .optional(),
});

export const gossipPayloadSchema = z.strictObject({
  from: address.describe("the sender's gossip address"),
  items: z
    .array(z.strictObject({ hops: z.number().int().min(0).max(64), vote: voteSchema }))
    .max(GOSSIP_LIMITS.maxBatch),
});
export class GossipPayloadDto extends createZodDto(gossipPayloadSchema) {}

const counts = z.number().int().min(0);
export const gossipReportSchema = z.object({
  accepted: counts.describe('votes merged and handed to the tally'),
  rejected: z
    .partialRecord(z.enum(REJECT_REASONS), counts)
    .describe('votes dropped, by reason (only reasons that occurred)'),
});
export class GossipReportDto extends createZodDto(gossipReportSchema) {}

export const joinSchema = z.strictObject({
  id: nodeId,
  region: nodeId,
  publicKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'expected base64 of a 32-byte Ed25519 key'),
  address,
  at: epochMs,
  proof: z.string().length(88, 'expected a base64 Ed25519 signature'),
  rekeyProof: z
    .string()
    .length(88, 'expected a base64 Ed25519 signature')
    .optional()
    .describe('replacing a registered key: this claim signed by the OLD key (uptime-rekey/v1)'),
});
export class JoinDto extends createZodDto(joinSchema) {}

export const joinResultSchema = z.object({
  outcome: z.enum(['created', 'updated', 'rekeyed']),
});
export class JoinResultDto extends createZodDto(joinResultSchema) {}
