//! Notification preferences per channel; the notification service follows them through
//! `user.preferences.updated` (security messages go out regardless).

use crate::error::{Error, Result};
use crate::profiles::ProfileStatus;
use crate::schema::notification_preferences as prefs;
use crate::state::State;
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use events::proto::user::v1 as ev;
use platform::http::RequestId;
use platform::kafka::outbox::Emits;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = prefs)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Preferences {
    pub push: bool,
    pub sms: bool,
    pub email: bool,
    pub promotions: bool,
}

pub async fn get(state: &State, user_id: Uuid) -> Result<Preferences> {
    let mut conn = platform::db::conn(&state.pool).await?;
    prefs::table
        .find(user_id)
        .select(Preferences::as_select())
        .first(&mut conn)
        .await
        .optional()?
        .ok_or(Error::ProfileNotReady)
}

pub async fn put(
    state: &State,
    user_id: Uuid,
    p: Preferences,
    rid: &RequestId,
) -> Result<Preferences> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let live = crate::schema::profiles::table
                .filter(crate::schema::profiles::status.ne(ProfileStatus::Deleted))
                .select(crate::schema::profiles::user_id);
            let n = diesel::update(
                prefs::table
                    .find(user_id)
                    .filter(prefs::user_id.eq_any(live)),
            )
            .set((
                prefs::push.eq(p.push),
                prefs::sms.eq(p.sms),
                prefs::email.eq(p.email),
                prefs::promotions.eq(p.promotions),
                prefs::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
            if n == 0 {
                return Err(Error::ProfileNotReady);
            }
            let event = ev::PreferencesUpdated {
                user_id: user_id.to_string(),
                push: p.push,
                sms: p.sms,
                email: p.email,
                promotions: p.promotions,
            };
            state.emit(conn, user_id, &event, Some(rid)).await?;
            Ok(p)
        }
        .scope_boxed()
    })
    .await
}
