/**
 * The time notification delivery, reminders and maintenance windows run on. Times in
 * notification_deliveries come from here, not from the database, so tests can pin the clock and
 * walk through a 24-hour outage or a time-zone change in seconds. Instances' clocks are assumed
 * to agree to well within a lease (2 min), as NTP gives.
 */
import { Injectable } from '@nestjs/common';
import type { Clock } from '@/core/ports/clock.port';

@Injectable()
export class NotifyClock implements Clock {
  now(): number {
    return Date.now();
  }
}
