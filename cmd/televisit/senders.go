package main

import (
	"fmt"
	"log/slog"

	"github.com/televisit/televisit/internal/config"
	"github.com/televisit/televisit/visits/notify"
)

// senders builds the notification senders the configuration enables:
// SMTP for e-mail, the webhook for SMS. A channel left out fails its
// messages; that is logged once at start.
func senders(c config.Notify, log *slog.Logger) (map[notify.Channel]notify.Sender, error) {
	out := map[notify.Channel]notify.Sender{}
	if c.SMTP.Enabled() {
		s, err := notify.NewSMTPSender(notify.SMTPConfig{
			Addr: c.SMTP.Addr, From: c.SMTP.From, Username: c.SMTP.Username,
			Password: c.SMTP.Password.Value(), StartTLS: c.SMTP.StartTLS,
		})
		if err != nil {
			return nil, fmt.Errorf("notify.smtp: %w", err)
		}
		out[notify.ChannelEmail] = s
	} else {
		log.Warn("e-mail is not configured (notify.smtp); links sent by e-mail will fail")
	}
	if c.Webhook.Enabled() {
		s, err := notify.NewWebhookSender(notify.WebhookConfig{URL: c.Webhook.URL, Secret: c.Webhook.Secret.Value()})
		if err != nil {
			return nil, fmt.Errorf("notify.webhook: %w", err)
		}
		out[notify.ChannelSMS] = s
	} else {
		log.Warn("SMS is not configured (notify.webhook); links sent by SMS will fail")
	}
	return out, nil
}
