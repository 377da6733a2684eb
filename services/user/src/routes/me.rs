//! The caller's own profile, preferences and referrals; public profiles of others.

use super::Ctx;
use crate::error::Error;
use crate::preferences::{self, Preferences};
use crate::profiles::{self, Changes, ProfileView, PublicProfile};
use actix_web::{delete, get, patch, put, web};
use chrono::NaiveDate;
use platform::auth::AuthUser;
use platform::http::envelope::ok;
use platform::http::surface::Routes;
use platform::http::{ApiResult, RequestId, ValidJson};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::{Validate, ValidationError};

pub fn routes(cfg: &mut Routes<'_>) {
    cfg.service(me)
        .service(update_me)
        .service(delete_me)
        .service(change_username)
        .service(referrals)
        .service(get_preferences)
        .service(put_preferences);
}

/// The caller's profile (404 with a clear message until the registration event arrived).
#[utoipa::path(tag = "profile", security(("bearer" = [])),
    responses((status = 200, description = "Profile", body = ProfileView),
              (status = 404, description = "Profile not created yet")))]
#[get("/me")]
pub async fn me(state: Ctx, user: AuthUser) -> ApiResult {
    Ok(ok(ProfileView::from(
        profiles::me(&state, user.id()).await?,
    )))
}

fn valid_gender(v: &str) -> Result<(), ValidationError> {
    match v {
        "male" | "female" | "other" | "prefer_not_to_say" => Ok(()),
        _ => Err(ValidationError::new("gender")
            .with_message("must be male, female, other or prefer_not_to_say".into())),
    }
}

fn valid_age_bracket(v: &str) -> Result<(), ValidationError> {
    match v {
        "18-24" | "25-34" | "35-44" | "45-54" | "55+" => Ok(()),
        _ => Err(ValidationError::new("ageBracket")
            .with_message("must be 18-24, 25-34, 35-44, 45-54 or 55+".into())),
    }
}

fn valid_birth_date(d: &NaiveDate) -> Result<(), ValidationError> {
    let today = chrono::Utc::now().date_naive();
    let oldest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(today);
    if *d > today || *d < oldest {
        return Err(
            ValidationError::new("birthDate").with_message("must be a real past date".into())
        );
    }
    Ok(())
}

/// Only web images: `javascript:`, `data:` or `file:` URLs would be stored XSS or SSRF
/// wherever the avatar is shown or fetched.
fn valid_avatar_url(v: &str) -> Result<(), ValidationError> {
    use validator::ValidateUrl;
    let lower = v.to_ascii_lowercase();
    if v.validate_url() && (lower.starts_with("https://") || lower.starts_with("http://")) {
        return Ok(());
    }
    Err(ValidationError::new("avatarUrl").with_message("must be an http(s) URL".into()))
}

fn valid_interests(list: &[String]) -> Result<(), ValidationError> {
    if list.len() > 20 || list.iter().any(|i| i.trim().is_empty() || i.len() > 40) {
        return Err(ValidationError::new("interests")
            .with_message("at most 20 interests of 1-40 characters".into()));
    }
    Ok(())
}

/// Absent fields stay as they are; `null` clears a field.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateProfile {
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[validate(length(min = 1, max = 60))]
    #[schema(min_length = 1, max_length = 60)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[validate(length(min = 1, max = 60))]
    #[schema(min_length = 1, max_length = 60)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[validate(custom(function = "valid_avatar_url"), length(max = 500))]
    #[schema(max_length = 500)]
    pub avatar_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub bio: Option<Option<String>>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[validate(custom(function = "valid_gender"))]
    pub gender: Option<Option<String>>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[validate(custom(function = "valid_age_bracket"))]
    pub age_bracket: Option<Option<String>>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[validate(custom(function = "valid_birth_date"))]
    pub birth_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub location: Option<Option<String>>,
    #[validate(custom(function = "valid_interests"))]
    pub interests: Option<Vec<String>>,
}

fn trimmed(v: Option<Option<String>>) -> Option<Option<String>> {
    v.map(|inner| inner.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
}

/// Changes some profile fields; the completion percentage follows.
#[utoipa::path(tag = "profile", security(("bearer" = [])),
    request_body = UpdateProfile,
    responses((status = 200, description = "Updated profile", body = ProfileView),
              (status = 400, description = "Invalid fields", body = platform::http::ErrorBody)))]
#[patch("/me")]
pub async fn update_me(
    state: Ctx,
    user: AuthUser,
    rid: RequestId,
    body: ValidJson<UpdateProfile>,
) -> ApiResult {
    let b = body.into_inner();
    let mut changed = Vec::new();
    let mut mark = |name: &str, present: bool| {
        if present {
            changed.push(name.to_owned());
        }
    };
    mark("firstName", b.first_name.is_some());
    mark("lastName", b.last_name.is_some());
    mark("avatarUrl", b.avatar_url.is_some());
    mark("bio", b.bio.is_some());
    mark("gender", b.gender.is_some());
    mark("ageBracket", b.age_bracket.is_some());
    mark("birthDate", b.birth_date.is_some());
    mark("location", b.location.is_some());
    mark("interests", b.interests.is_some());
    let changes = Changes {
        first_name: trimmed(b.first_name),
        last_name: trimmed(b.last_name),
        avatar_url: trimmed(b.avatar_url),
        bio: trimmed(b.bio),
        gender: b.gender,
        age_bracket: b.age_bracket,
        birth_date: b.birth_date,
        location: trimmed(b.location),
        interests: b
            .interests
            .map(|list| list.into_iter().map(|i| i.trim().to_lowercase()).collect()),
    };
    let p = profiles::update(&state, user.id(), changes, changed, &rid).await?;
    Ok(ok(ProfileView::from(p)))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UsernameRequest {
    #[validate(length(min = 3, max = 30))]
    #[schema(min_length = 3, max_length = 30)]
    pub username: String,
}

/// Changes the username (unique, case-insensitively; reserved names refused).
#[utoipa::path(tag = "profile", security(("bearer" = [])),
    request_body = UsernameRequest,
    responses((status = 200, description = "Updated profile", body = ProfileView),
              (status = 400, description = "Invalid, reserved or taken")))]
#[put("/me/username")]
pub async fn change_username(
    state: Ctx,
    user: AuthUser,
    rid: RequestId,
    body: ValidJson<UsernameRequest>,
) -> ApiResult {
    let p = profiles::change_username(&state, user.id(), &body.into_inner().username, &rid).await?;
    Ok(ok(ProfileView::from(p)))
}

/// People who signed up with the caller's referral code.
#[utoipa::path(tag = "profile", security(("bearer" = [])),
    responses((status = 200, description = "Referees", body = [PublicProfile])))]
#[get("/me/referrals")]
pub async fn referrals(state: Ctx, user: AuthUser) -> ApiResult {
    Ok(ok(profiles::referrals(&state, user.id()).await?))
}

/// Notification preferences per channel.
#[utoipa::path(tag = "profile", security(("bearer" = [])),
    responses((status = 200, description = "Preferences", body = Preferences)))]
#[get("/me/notification-settings")]
pub async fn get_preferences(state: Ctx, user: AuthUser) -> ApiResult {
    Ok(ok(preferences::get(&state, user.id()).await?))
}

/// Replaces the notification preferences (security messages are always sent).
#[utoipa::path(tag = "profile", security(("bearer" = [])),
    request_body = Preferences,
    responses((status = 200, description = "Preferences", body = Preferences)))]
#[put("/me/notification-settings")]
pub async fn put_preferences(
    state: Ctx,
    user: AuthUser,
    rid: RequestId,
    body: web::Json<Preferences>,
) -> ApiResult {
    Ok(ok(preferences::put(
        &state,
        user.id(),
        body.into_inner(),
        &rid,
    )
    .await?))
}

/// Deletes the caller's account: the profile is anonymised and every service is told to
/// forget the person.
#[utoipa::path(tag = "profile", security(("bearer" = [])),
    responses((status = 200, description = "Deleted")))]
#[delete("/me")]
pub async fn delete_me(state: Ctx, user: AuthUser, rid: RequestId) -> ApiResult {
    crate::lifecycle::delete_own(&state, user.id(), &rid).await?;
    Ok(ok(serde_json::json!({ "deleted": true })))
}

/// Someone's public profile.
#[utoipa::path(tag = "profile", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, description = "Public profile", body = PublicProfile),
              (status = 404, description = "No such visible profile")))]
#[get("/{id}")]
pub async fn by_id(state: Ctx, _user: AuthUser, id: web::Path<Uuid>) -> ApiResult {
    Ok(ok(
        profiles::public(&state, Some(id.into_inner()), None).await?
    ))
}

/// Someone's public profile by username.
#[utoipa::path(tag = "profile", security(("bearer" = [])),
    params(("username" = String, Path, description = "Username")),
    responses((status = 200, description = "Public profile", body = PublicProfile),
              (status = 404, description = "No such visible profile")))]
#[get("/by-username/{username}")]
pub async fn by_username(state: Ctx, _user: AuthUser, username: web::Path<String>) -> ApiResult {
    let username = username.into_inner();
    if username.len() > 30 {
        return Err(Error::NotFound("profile").into());
    }
    Ok(ok(profiles::public(&state, None, Some(&username)).await?))
}
