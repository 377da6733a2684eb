//! The delivery log and the dispatcher. A notification for an external channel becomes a
//! `queued` row in the same transaction as the event that caused it (inbox), so nothing is
//! lost; the row's key (source event, channel, destination) makes a redelivered event a
//! no-op. Dispatchers in every replica take due rows with `FOR UPDATE SKIP LOCKED`, send
//! them, and record `sent`, a retry with exponential backoff (transient errors), or
//! `failed` (permanent errors, or attempts used up), with the provider's answer, and an
//! event either way. The rendered content is erased once the row is settled.

use crate::catalogue::Channel;
use crate::channels::{Email, SendError};
use crate::error::{Error, Result};
use crate::schema::{deliveries as d, push_tokens as pt};
use crate::state::State;
use crate::templates::Content;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use events::proto::notification::v1 as ev;
use platform::http::pagination::{Page, Paginated};
use platform::kafka::outbox::Emits;
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;
use uuid::Uuid;

platform::text_enum! {
    /// Where a delivery stands (`deliveries.status`): queued until sent, or failed for good
    /// (a permanent error, attempts used up, the recipient deleted).
    pub enum DeliveryStatus {
        Queued = "queued",
        Sent = "sent",
        Failed = "failed",
    }
}

/// Adds a queued delivery; false when this event already has one for the channel and
/// destination (a redelivery).
#[allow(clippy::too_many_arguments)]
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    source: Uuid,
    kind: &str,
    channel: Channel,
    user: Option<Uuid>,
    destination: &str,
    content: &Content,
    expires_at: Option<DateTime<Utc>>,
) -> Result<bool> {
    let content = serde_json::to_value(content).map_err(|e| Error::Internal(e.into()))?;
    let n = diesel::insert_into(d::table)
        .values((
            d::id.eq(Uuid::now_v7()),
            d::source_id.eq(source),
            d::kind.eq(kind),
            d::channel.eq(channel.as_str()),
            d::user_id.eq(user),
            d::destination.eq(destination),
            d::content.eq(Some(content)),
            d::expires_at.eq(expires_at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if n == 1 {
        metrics::counter!("notifications_queued_total", "channel" => channel.as_str()).increment(1);
    }
    Ok(n == 1)
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = d)]
struct Due {
    id: Uuid,
    source_id: Uuid,
    kind: String,
    channel: String,
    user_id: Option<Uuid>,
    destination: String,
    attempts: i32,
    content: Option<serde_json::Value>,
    expires_at: Option<DateTime<Utc>>,
}

/// The delay before attempt `n + 1` after `n` failed ones: base, 2x, 4x... up to an hour.
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(0);
    base.saturating_mul(2u32.saturating_pow(exp))
        .min(Duration::from_secs(3600))
}

async fn send(state: &State, due: &Due) -> std::result::Result<String, SendError> {
    if due.expires_at.is_some_and(|e| e <= Utc::now()) {
        return Err(SendError::Permanent(
            "expired before it could be sent".into(),
        ));
    }
    let content: Content = due
        .content
        .clone()
        .and_then(|c| serde_json::from_value(c).ok())
        .ok_or_else(|| SendError::Permanent("no content to send".into()))?;
    let receipt = match Channel::parse(&due.channel) {
        Some(Channel::Email) => {
            let email = Email {
                to: due.destination.clone(),
                subject: content.title.unwrap_or_default(),
                text: content.text,
                html: content.html.unwrap_or_default(),
                id: due.id,
            };
            state.senders.email.send(&email).await?
        }
        Some(Channel::Sms) => {
            state
                .senders
                .sms
                .send(&due.destination, &content.text)
                .await?
        }
        Some(Channel::Push) => {
            state
                .senders
                .push
                .send(
                    &due.destination,
                    content.title.as_deref().unwrap_or_default(),
                    &content.text,
                )
                .await?
        }
        Some(Channel::InApp) | None => {
            return Err(SendError::Permanent(format!(
                "cannot send on {}",
                due.channel
            )));
        }
    };
    Ok(receipt.0)
}

/// How long a claimed delivery is reserved for the dispatcher that took it; after a crash
/// another one sends it then (at least once).
const LEASE: Duration = Duration::from_secs(60);

/// Takes up to a batch of due deliveries: one short transaction counts the attempt and
/// pushes their next attempt past the lease, so no other dispatcher takes them while they
/// are being sent, and no lock is held during the sends.
async fn claim(state: &State) -> Result<Vec<Due>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let batch = state.dispatch.batch;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let ids: Vec<Uuid> = d::table
                .filter(d::status.eq(DeliveryStatus::Queued))
                .filter(d::next_attempt_at.le(diesel::dsl::now))
                .order(d::next_attempt_at)
                .limit(batch)
                .select(d::id)
                .for_update()
                .skip_locked()
                .load(conn)
                .await?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let lease = Utc::now()
                + chrono::Duration::from_std(LEASE)
                    .unwrap_or_else(|_| chrono::Duration::minutes(1));
            Ok(diesel::update(d::table.filter(d::id.eq_any(&ids)))
                .set((
                    d::attempts.eq(d::attempts + 1),
                    d::next_attempt_at.eq(lease),
                    d::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Due::as_returning())
                .get_results(conn)
                .await?)
        }
        .scope_boxed()
    })
    .await
}

/// One round: claims due deliveries, sends them side by side, records each outcome in its
/// own transaction. Returns how many were handled.
pub async fn dispatch_once(state: &State) -> Result<usize> {
    let due = claim(state).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let results = futures::future::join_all(due.iter().map(|row| send(state, row))).await;
    for (row, result) in due.iter().zip(results) {
        let mut conn = platform::db::conn(&state.pool).await?;
        let recorded = conn
            .transaction::<_, Error, _>(|conn| {
                async move { record(conn, state, row, result).await }.scope_boxed()
            })
            .await;
        if let Err(e) = recorded {
            // The lease runs out and the delivery is sent again: at least once.
            tracing::error!(delivery = %row.id, error = %e, "recording a delivery failed");
        }
    }
    Ok(due.len())
}

async fn record(
    conn: &mut AsyncPgConnection,
    state: &State,
    row: &Due,
    result: std::result::Result<String, SendError>,
) -> Result<()> {
    // Counted when claimed.
    let attempts = row.attempts;
    // Never the address itself: the key is in the broker's logs and tools.
    let key = row.user_id.unwrap_or(row.id).to_string();
    let channel = row.channel.as_str();
    match result {
        Ok(receipt) => {
            diesel::update(d::table.find(row.id))
                .set((
                    d::status.eq(DeliveryStatus::Sent),
                    d::attempts.eq(attempts),
                    d::content.eq(None::<serde_json::Value>),
                    d::provider_response.eq(receipt),
                    d::last_error.eq(None::<String>),
                    d::sent_at.eq(diesel::dsl::now),
                    d::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            let event = ev::NotificationSent {
                delivery_id: row.id.to_string(),
                source_id: row.source_id.to_string(),
                kind: row.kind.clone(),
                channel: row.channel.clone(),
                user_id: row.user_id.map(|u| u.to_string()).unwrap_or_default(),
                attempts,
            };
            state.emit(conn, &key, &event, None).await?;
            metrics::counter!("notifications_sent_total", "channel" => channel.to_owned())
                .increment(1);
        }
        Err(SendError::Transient(error)) if attempts < state.dispatch.max_attempts => {
            let next = Utc::now()
                + chrono::Duration::from_std(backoff(state.dispatch.retry_base, attempts))
                    .unwrap_or_else(|_| chrono::Duration::hours(1));
            tracing::warn!(delivery = %row.id, %channel, attempts, %error, "delivery will be retried");
            diesel::update(d::table.find(row.id))
                .set((
                    d::attempts.eq(attempts),
                    d::next_attempt_at.eq(next),
                    d::last_error.eq(&error),
                    d::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            metrics::counter!("notifications_retried_total", "channel" => channel.to_owned())
                .increment(1);
        }
        Err(e) => {
            let error = e.to_string();
            tracing::warn!(delivery = %row.id, %channel, attempts, %error, "delivery failed");
            diesel::update(d::table.find(row.id))
                .set((
                    d::status.eq(DeliveryStatus::Failed),
                    d::attempts.eq(attempts),
                    d::content.eq(None::<serde_json::Value>),
                    d::last_error.eq(&error),
                    d::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            // FCM says UNREGISTERED for a token whose app was uninstalled: stop using it
            // (only then: a 404 for a wrong project must not wipe every token).
            if channel == "push" && matches!(e, SendError::Permanent(ref m) if m.starts_with("404"))
            {
                diesel::delete(pt::table.filter(pt::token.eq(&row.destination)))
                    .execute(conn)
                    .await?;
            }
            let event = ev::NotificationFailed {
                delivery_id: row.id.to_string(),
                source_id: row.source_id.to_string(),
                kind: row.kind.clone(),
                channel: row.channel.clone(),
                user_id: row.user_id.map(|u| u.to_string()).unwrap_or_default(),
                attempts,
                error,
            };
            state.emit(conn, &key, &event, None).await?;
            metrics::counter!("notifications_failed_total", "channel" => channel.to_owned())
                .increment(1);
        }
    }
    Ok(())
}

/// The dispatcher loop: rounds back to back while there is work, then every `interval`.
pub async fn run(state: State, shutdown: tokio_util::sync::CancellationToken) {
    loop {
        let pause = match dispatch_once(&state).await {
            Ok(0) => state.dispatch.interval,
            Ok(_) => Duration::ZERO,
            Err(e) => {
                tracing::warn!(error = %e, "dispatch round failed");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// A row of the delivery log, for admins (the destination masked, never the content).
#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = d)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    pub id: Uuid,
    pub source_id: Uuid,
    pub kind: String,
    pub channel: String,
    pub user_id: Option<Uuid>,
    pub destination: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub provider_response: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

pub async fn log(
    conn: &mut AsyncPgConnection,
    status: Option<DeliveryStatus>,
    source: Option<Uuid>,
    page: Page,
) -> Result<Paginated<LogEntry>> {
    let filtered = || {
        let mut q = d::table.into_boxed();
        if let Some(s) = status {
            q = q.filter(d::status.eq(s));
        }
        if let Some(s) = source {
            q = q.filter(d::source_id.eq(s));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn).await?;
    let mut items: Vec<LogEntry> = filtered()
        .order((d::created_at.desc(), d::id))
        .limit(page.limit())
        .offset(page.offset())
        .select(LogEntry::as_select())
        .load(conn)
        .await?;
    for item in &mut items {
        item.destination = crate::channels::mask(&item.destination);
    }
    Ok(Paginated::new(
        items,
        page,
        u64::try_from(total).unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let base = Duration::from_secs(5);
        assert_eq!(backoff(base, 1), Duration::from_secs(5));
        assert_eq!(backoff(base, 2), Duration::from_secs(10));
        assert_eq!(backoff(base, 4), Duration::from_secs(40));
        assert_eq!(backoff(base, 30), Duration::from_secs(3600));
    }
}
