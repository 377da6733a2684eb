//! What the catalog learns from others: communities and their members (who sees and runs
//! which library) and the order saga's steps (holds, bookings, releases, extensions).

use crate::communities::{self, Details, MemberRole, Visibility};
use crate::error::Error;
use crate::reservations::{self, Line};

use crate::state::State;
use chrono::NaiveDate;
use diesel_async::AsyncPgConnection;
use events::DomainEvent;
use events::proto::community::v1 as community;
use events::proto::order::v1 as order;
use platform::kafka::consumer::{
    ConsumerConfig, EventHandler, HandlerError, Incoming, event_id_field as id,
};
use platform::money::Currency;

pub fn config() -> ConsumerConfig {
    ConsumerConfig::new(
        "catalog",
        &[
            events::topics::COMMUNITY_COMMUNITY.name(),
            events::topics::COMMUNITY_MEMBER.name(),
            events::topics::ORDER_ORDER.name(),
        ],
    )
}

pub struct Handler {
    pub state: State,
}

impl From<Error> for HandlerError {
    fn from(e: Error) -> Self {
        match e {
            Error::Db(db) => db.into(),
            // Nothing else is a property of the event itself: retry, then dead-letter.
            other => HandlerError::Transient(anyhow::anyhow!("{other}")),
        }
    }
}

fn date(raw: &str) -> Result<NaiveDate, HandlerError> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| HandlerError::Permanent(anyhow::anyhow!("bad date {raw:?} in the event")))
}

fn currency(raw: &str) -> Currency {
    // Events from before communities had a currency carry none: the platform's default.
    Currency::parse(raw).unwrap_or(Currency::EUR)
}

fn visibility(raw: i32) -> Visibility {
    match community::CatalogVisibility::try_from(raw) {
        Ok(community::CatalogVisibility::Public) => Visibility::Public,
        _ => Visibility::Members,
    }
}

fn role(raw: i32) -> MemberRole {
    match community::CommunityRole::try_from(raw) {
        Ok(community::CommunityRole::Manager) => MemberRole::Manager,
        Ok(community::CommunityRole::Moderator) => MemberRole::Moderator,
        _ => MemberRole::Resident,
    }
}

fn lines(items: &[order::OrderItem]) -> Result<Vec<Line>, HandlerError> {
    items
        .iter()
        .map(|it| {
            Ok(Line {
                order_item_id: id(&it.order_item_id)?,
                tool_id: id(&it.tool_id)?,
                quantity: i64::from(it.quantity),
                start: date(&it.start_date)?,
                end: date(&it.end_date)?,
            })
        })
        .collect()
}

impl EventHandler for Handler {
    async fn handle(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Incoming,
    ) -> Result<(), HandlerError> {
        let state = &self.state;
        let rid = event.request_id();
        let rid = Some(&rid);
        match event.event_type() {
            t if t == community::CommunityCreated::TYPE => {
                let e: community::CommunityCreated = event.decode()?;
                communities::upsert(
                    conn,
                    Details {
                        id: id(&e.community_id)?,
                        name: &e.name,
                        currency: currency(&e.currency),
                        visibility: visibility(e.catalog_visibility),
                        manager_id: Some(id(&e.manager_id)?),
                    },
                )
                .await?;
            }
            t if t == community::CommunityUpdated::TYPE => {
                let e: community::CommunityUpdated = event.decode()?;
                communities::upsert(
                    conn,
                    Details {
                        id: id(&e.community_id)?,
                        name: &e.name,
                        currency: currency(&e.currency),
                        visibility: visibility(e.catalog_visibility),
                        manager_id: None,
                    },
                )
                .await?;
            }
            t if t == community::CommunityDeleted::TYPE => {
                let e: community::CommunityDeleted = event.decode()?;
                communities::deleted(conn, id(&e.community_id)?).await?;
            }
            t if t == community::MemberJoined::TYPE => {
                let e: community::MemberJoined = event.decode()?;
                communities::set_member(conn, id(&e.community_id)?, id(&e.user_id)?, role(e.role))
                    .await?;
            }
            t if t == community::MemberRoleChanged::TYPE => {
                let e: community::MemberRoleChanged = event.decode()?;
                communities::set_member(conn, id(&e.community_id)?, id(&e.user_id)?, role(e.role))
                    .await?;
            }
            t if t == community::MemberLeft::TYPE => {
                let e: community::MemberLeft = event.decode()?;
                communities::remove_member(conn, id(&e.community_id)?, id(&e.user_id)?).await?;
            }
            t if t == community::MemberRemoved::TYPE => {
                let e: community::MemberRemoved = event.decode()?;
                communities::remove_member(conn, id(&e.community_id)?, id(&e.user_id)?).await?;
            }
            t if t == order::OrderPlaced::TYPE => {
                let e: order::OrderPlaced = event.decode()?;
                let lines = lines(&e.items)?;
                reservations::hold_in(
                    conn,
                    state,
                    id(&e.order_id)?,
                    id(&e.community_id)?,
                    &lines,
                    rid,
                )
                .await?;
            }
            t if t == order::OrderConfirmed::TYPE => {
                let e: order::OrderConfirmed = event.decode()?;
                reservations::confirm_in(conn, state, id(&e.order_id)?, rid).await?;
            }
            t if t == order::OrderCancelled::TYPE => {
                let e: order::OrderCancelled = event.decode()?;
                reservations::release_in(conn, state, id(&e.order_id)?, "order_cancelled", rid)
                    .await?;
            }
            t if t == order::OrderExtensionRequested::TYPE => {
                let e: order::OrderExtensionRequested = event.decode()?;
                reservations::extend_in(
                    conn,
                    state,
                    id(&e.order_id)?,
                    id(&e.extension_id)?,
                    date(&e.new_end_date)?,
                    rid,
                )
                .await?;
            }
            t if t == order::OrderReturned::TYPE => {
                let e: order::OrderReturned = event.decode()?;
                reservations::returned_in(conn, state, id(&e.order_id)?, rid).await?;
            }
            // Who rented what: the right to review it. (The rentals that make a tool
            // popular are counted from the bookings themselves.)
            t if t == order::OrderCompleted::TYPE => {
                let e: order::OrderCompleted = event.decode()?;
                let lines = e
                    .items
                    .iter()
                    .map(|it| Ok((id(&it.order_item_id)?, id(&it.tool_id)?)))
                    .collect::<Result<Vec<_>, HandlerError>>()?;
                crate::reviews::rented_in(conn, id(&e.order_id)?, id(&e.user_id)?, &lines).await?;
            }
            _ => {}
        }
        Ok(())
    }
}
