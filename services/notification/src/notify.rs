//! Turning "tell this person this" into messages: for each channel of the notification
//! type, the person's preference (security messages ignore them), the destination
//! (verified e-mail, phone, each push token, the inbox), the rendered template, and a
//! queued delivery or an inbox row. Everything happens in the caller's transaction.

use crate::catalogue::{Category, Channel, Kind};
use crate::deliveries;
use crate::error::{Error, Result};
use crate::inbox;
use crate::recipients::{self, Recipient};
use crate::state::State;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

/// Who a message is for.
pub enum To<'a> {
    /// An account, reached at its own addresses.
    User(&'a Recipient),
    /// An address given by the event (a code's destination, an invitee without account).
    Address {
        channel: Channel,
        destination: &'a str,
        user: Option<Uuid>,
    },
}

/// What the channel loop needs to know about the message.
pub struct Message<'a> {
    pub source: Uuid,
    pub kind: &'a Kind,
    pub category: Category,
    pub channels: &'a [Channel],
    pub vars: serde_json::Value,
    /// Ids for in-app messages' links.
    pub data: serde_json::Value,
}

/// Queues `message` for `to` on every allowed channel; returns how many were new.
pub async fn send(
    conn: &mut AsyncPgConnection,
    state: &State,
    message: &Message<'_>,
    to: To<'_>,
) -> Result<usize> {
    let render = |channel| {
        state
            .templates
            .render(message.kind, channel, &message.vars)
            .map_err(Error::Internal)
    };
    let kind = message.kind.name;
    let mut queued = 0;
    match to {
        To::Address {
            channel,
            destination,
            user,
        } => {
            let content = render(channel)?;
            queued += usize::from(
                deliveries::enqueue(
                    conn,
                    message.source,
                    kind,
                    channel,
                    user,
                    destination,
                    &content,
                )
                .await?,
            );
        }
        To::User(person) => {
            for &channel in message.channels {
                if !person.accepts(message.category, channel) {
                    metrics::counter!("notifications_skipped_total", "reason" => "preference")
                        .increment(1);
                    continue;
                }
                match channel {
                    Channel::InApp => {
                        let content = render(channel)?;
                        queued += usize::from(
                            inbox::store(
                                conn,
                                message.source,
                                person.user_id,
                                kind,
                                &content,
                                &message.data,
                            )
                            .await?,
                        );
                    }
                    Channel::Email => {
                        let Some(email) = person.email.as_deref().filter(|_| person.email_verified)
                        else {
                            continue;
                        };
                        let content = render(channel)?;
                        queued += usize::from(
                            deliveries::enqueue(
                                conn,
                                message.source,
                                kind,
                                channel,
                                Some(person.user_id),
                                email,
                                &content,
                            )
                            .await?,
                        );
                    }
                    Channel::Sms => {
                        let Some(phone) = person.phone.as_deref() else {
                            continue;
                        };
                        let content = render(channel)?;
                        queued += usize::from(
                            deliveries::enqueue(
                                conn,
                                message.source,
                                kind,
                                channel,
                                Some(person.user_id),
                                phone,
                                &content,
                            )
                            .await?,
                        );
                    }
                    Channel::Push => {
                        let tokens = recipients::push_tokens(conn, person.user_id).await?;
                        if tokens.is_empty() {
                            continue;
                        }
                        let content = render(channel)?;
                        for token in tokens {
                            queued += usize::from(
                                deliveries::enqueue(
                                    conn,
                                    message.source,
                                    kind,
                                    channel,
                                    Some(person.user_id),
                                    &token,
                                    &content,
                                )
                                .await?,
                            );
                        }
                    }
                }
            }
        }
    }
    Ok(queued)
}
