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
use chrono::{DateTime, Utc};
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
    /// A code or link that is useless after this time is not sent after it.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Where `channel` reaches `person` for this message, if anywhere. SMS is the fallback of
/// security messages that also go by e-mail: it is used only when the person has no
/// verified address (a phone-only account still hears of a lockout or a suspension).
fn destination(person: &Recipient, message: &Message<'_>, channel: Channel) -> Option<String> {
    let email = person.email.clone().filter(|_| person.email_verified);
    match channel {
        Channel::Email => email,
        Channel::Sms => {
            let fallback_only = message.category == Category::Essential
                && message.channels.contains(&Channel::Email);
            if fallback_only && email.is_some() {
                None
            } else {
                person.phone.clone()
            }
        }
        Channel::InApp | Channel::Push => None,
    }
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
            let new = deliveries::enqueue(
                conn,
                message.source,
                kind,
                channel,
                user,
                destination,
                &content,
                message.expires_at,
            )
            .await?;
            queued += usize::from(new);
        }
        To::User(person) => {
            for &channel in message.channels {
                if !person.accepts(message.category, channel) {
                    metrics::counter!("notifications_skipped_total", "reason" => "preference")
                        .increment(1);
                    continue;
                }
                let destinations = match channel {
                    Channel::InApp => {
                        let content = render(channel)?;
                        let new = inbox::store(
                            conn,
                            message.source,
                            person.user_id,
                            kind,
                            &content,
                            &message.data,
                        )
                        .await?;
                        queued += usize::from(new);
                        continue;
                    }
                    Channel::Push => recipients::push_tokens(conn, person.user_id).await?,
                    Channel::Email | Channel::Sms => {
                        destination(person, message, channel).into_iter().collect()
                    }
                };
                if destinations.is_empty() {
                    continue;
                }
                let content = render(channel)?;
                for to in destinations {
                    let new = deliveries::enqueue(
                        conn,
                        message.source,
                        kind,
                        channel,
                        Some(person.user_id),
                        &to,
                        &content,
                        message.expires_at,
                    )
                    .await?;
                    queued += usize::from(new);
                }
            }
        }
    }
    Ok(queued)
}
