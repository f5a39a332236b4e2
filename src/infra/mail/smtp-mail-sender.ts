/**
 * MailSender over SMTP through @nestjs-modules/mailer (nodemailer, pooled). Every attempt is
 * bounded in time, so a hung server costs a retry, never a stuck consumer; errors are classified
 * for the caller's retry policy.
 */
import { Injectable } from '@nestjs/common';
import { MailerService } from '@nestjs-modules/mailer';
import { AppConfig } from '@/config/app-config';
import { classifyMailError, MailSender, OutgoingMail, SentMail } from './mail-sender';

@Injectable()
export class SmtpMailSender extends MailSender {
  readonly delivers = true;

  constructor(
    private readonly mailer: MailerService,
    private readonly config: AppConfig,
  ) {
    super();
  }

  async send(mail: OutgoingMail): Promise<SentMail> {
    try {
      const info = (await this.mailer.sendMail({
        from: this.config.mail.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
        headers: mail.headers,
      })) as { messageId?: string; response?: string };
      return { messageId: info.messageId ?? mail.messageId, response: info.response ?? '' };
    } catch (err) {
      throw classifyMailError(err);
    }
  }
}
