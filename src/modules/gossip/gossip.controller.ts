/**
 * Node-to-node gossip endpoints. Only cluster members get past ClusterAuthGuard
 * (HMAC over the raw body, fresh, never replayed); the schema rejects malformed
 * payloads with 400 before anything is touched.
 */
import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import {
  ClusterAuthGuard,
  ClusterMembershipOnly,
  type ClusterRequest,
} from '@/infra/cluster/cluster-auth.guard';
import { ApiErrors, ErrorBodyDto } from '@/modules/auth/api-errors';
import { GossipPayloadDto, GossipReportDto, JoinDto, JoinResultDto } from './gossip.dto';
import { GossipService } from './gossip.service';
import { ValidatorDirectory } from './validator-directory';

const CLUSTER_ERRORS = {
  400: 'malformed JSON (BAD_JSON) or payload (VALIDATION_FAILED, with details); nothing is changed',
  401: 'missing, stale, replayed or wrong x-cluster-* signature headers (UNAUTHENTICATED)',
  413: 'body larger than 4 MB',
} as const;

@ApiTags('cluster')
@UseGuards(ClusterAuthGuard)
@Controller('simulate/gossip')
export class GossipController {
  constructor(
    private readonly gossip: GossipService,
    private readonly directory: ValidatorDirectory,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Receive a batch of signed votes from a peer (node-to-node, CLUSTER_SECRET HMAC)',
    description:
      'Each vote is checked (age, replay, Ed25519 signature of a registered validator, region) and ' +
      'merged; the answer counts accepted votes and dropped ones by reason.',
  })
  @ApiErrors(CLUSTER_ERRORS)
  @ZodResponse({ status: 200, type: GossipReportDto })
  async receive(@Body() body: GossipPayloadDto, @Req() req: ClusterRequest) {
    this.directory.heardFrom(req.clusterNode);
    return this.gossip.receive(body);
  }

  @Post('join')
  @HttpCode(200)
  // Membership is enough: the claim is signed with the key it registers, and replacing
  // a registered key needs the old key's proof or the operator's ALLOW_REKEY.
  @ClusterMembershipOnly()
  @ApiOperation({
    summary: 'A validator registers its region, address and Ed25519 public key (node-to-node)',
    description:
      'Only for the authenticated x-cluster-node itself, with the claim signed by the presented key. ' +
      'A validator already registered with another key is refused (403) unless the claim carries ' +
      'rekeyProof (the new claim signed by the old key) or this node lists the id in ALLOW_REKEY.',
  })
  @ApiErrors({ ...CLUSTER_ERRORS, 401: `${CLUSTER_ERRORS[401]}, or a proof that does not verify` })
  @ApiResponse({
    status: 403,
    description: "registering another node id, another node's address, or a new key without proof",
    type: ErrorBodyDto,
  })
  @ZodResponse({ status: 200, type: JoinResultDto })
  async join(@Body() body: JoinDto, @Req() req: ClusterRequest) {
    return { outcome: await this.directory.join(body, req.clusterNode) };
  }
}
