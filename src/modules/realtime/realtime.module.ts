import { Module } from '@nestjs/common';

/** Shell: filled by its own issue (see `issues`). */
@Module({})
export class RealtimeModule {}
