/**
 * Provides the MailSender: SMTP through @nestjs-modules/mailer when SMTP_HOST is set, the log
 * otherwise. Attempts are time-bounded (connect, greeting, socket and whole send).
 */
import { DynamicModule, Module } from '@nestjs/common';
import { MailerModule } from '@nestjs-modules/mailer';
import type { AppConfig } from '@/config/app-config';
import { LogMailSender } from './log-mail-sender';
import { MailSender } from './mail-sender';
import { SmtpMailSender } from './smtp-mail-sender';

/** Upper bound of one send attempt; callers lease a delivery for longer than this. */
export const MAIL_SEND_TIMEOUT_MS = 45_000;

@Module({})
export class MailModule {
  static forRoot(config: AppConfig): DynamicModule {
    const { mail } = config;
    if (!mail.host) {
      return {
        module: MailModule,
        providers: [{ provide: MailSender, useClass: LogMailSender }],
        exports: [MailSender],
      };
    }
    return {
      module: MailModule,
      imports: [
        MailerModule.forRoot({
          transport: {
            host: mail.host,
            port: mail.port,
            secure: mail.secure,
            auth: mail.user ? { user: mail.user, pass: mail.pass ?? '' } : undefined,
            pool: true,
            maxConnections: 4,
            connectionTimeout: 10_000,
            greetingTimeout: 10_000,
            socketTimeout: 30_000,
          },
          sendTimeout: MAIL_SEND_TIMEOUT_MS,
        }),
      ],
      providers: [{ provide: MailSender, useClass: SmtpMailSender }],
      exports: [MailSender],
    };
  }
}
