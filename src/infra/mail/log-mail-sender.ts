/**
 * MailSender for a node without SMTP_HOST: the message is written to the log (recipient,
 * Message-ID, subject and text; never credentials) and counts as delivered.
 */
import { Injectable, Logger } from '@nestjs/common';
import { MailSender, OutgoingMail, SentMail } from './mail-sender';

@Injectable()
export class LogMailSender extends MailSender {
  readonly delivers = false;
  private readonly log = new Logger('Mail');

  async send(mail: OutgoingMail): Promise<SentMail> {
    this.log.log(
      `e-mail not sent (SMTP_HOST unset) to=${mail.to} messageId=${mail.messageId} subject="${mail.subject}"\n${mail.text}`,
    );
    return { messageId: mail.messageId, response: 'logged' };
  }
}
