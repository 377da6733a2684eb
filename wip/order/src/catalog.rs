//! The cart's advisory availability check: the catalog's own HTTP API, asked with the
//! customer's token (so it also answers whether the customer may see the tool). Advisory
//! only: the catalog's hold in the saga is what decides, so when the catalog cannot be
//! asked the line is kept as `unverified` rather than refused.

use chrono::NaiveDate;
use serde::Deserialize;
use std::time::Duration;
use uuid::Uuid;

platform::text_enum! {
    /// What the catalog said about a cart line when it was added or changed.
    pub enum Availability {
        Available = "available",
        /// Not enough free items on some day of the period (the line is kept: the
        /// customer may change the dates).
        Unavailable = "unavailable",
        /// The catalog could not be asked; the saga's hold decides.
        Unverified = "unverified",
    }
}

/// The catalog's answer, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Known(Availability),
    /// The catalog says there is no such tool for this customer: another community's,
    /// or gone.
    NotVisible,
}

#[derive(Clone)]
pub struct CatalogClient {
    http: reqwest::Client,
    base: String,
}

#[derive(Deserialize)]
struct Envelope {
    data: Days,
}

#[derive(Deserialize)]
struct Days {
    days: Vec<Day>,
}

#[derive(Deserialize)]
struct Day {
    free: i64,
}

impl CatalogClient {
    pub fn new(base: &str, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout)
                .build()?,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// Whether `quantity` items of `tool` are free on every day of `[from, to)`, asked as
    /// the holder of `authorization` (the customer's `Authorization` header).
    pub async fn check(
        &self,
        authorization: Option<&str>,
        tool: Uuid,
        from: NaiveDate,
        to: NaiveDate,
        quantity: i64,
    ) -> Answer {
        let url = format!("{}/api/tools/{tool}/availability", self.base);
        let mut request = self
            .http
            .get(url)
            .query(&[("from", from.to_string()), ("to", to.to_string())]);
        if let Some(auth) = authorization {
            request = request.header(reqwest::header::AUTHORIZATION, auth);
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "catalog availability check failed; line unverified");
                metrics::counter!("order_catalog_checks_total", "outcome" => "unreachable")
                    .increment(1);
                return Answer::Known(Availability::Unverified);
            }
        };
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Answer::NotVisible;
        }
        if !response.status().is_success() {
            tracing::warn!(status = %response.status(), "catalog availability check refused; line unverified");
            metrics::counter!("order_catalog_checks_total", "outcome" => "error").increment(1);
            return Answer::Known(Availability::Unverified);
        }
        match response.json::<Envelope>().await {
            Ok(body) => {
                let enough = body.data.days.iter().all(|d| d.free >= quantity);
                metrics::counter!("order_catalog_checks_total", "outcome" => "answered")
                    .increment(1);
                Answer::Known(if enough {
                    Availability::Available
                } else {
                    Availability::Unavailable
                })
            }
            Err(e) => {
                tracing::warn!(error = %e, "catalog availability answer unreadable; line unverified");
                Answer::Known(Availability::Unverified)
            }
        }
    }
}
