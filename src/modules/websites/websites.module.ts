import { Module } from '@nestjs/common';
import { TargetPolicy } from './target-policy';
import { WebsiteRepository } from './website.repository';
import { WebsitesController } from './websites.controller';
import { WebsitesService } from './websites.service';

@Module({
  controllers: [WebsitesController],
  providers: [WebsitesService, WebsiteRepository, TargetPolicy],
  exports: [WebsiteRepository],
})
export class WebsitesModule {}
