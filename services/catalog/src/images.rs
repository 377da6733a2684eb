//! Tool images. An upload (JPEG, PNG or WebP, at most `CATALOG_IMAGE_MAX_BYTES`) is
//! decoded, which proves it is an image and bounds what it may cost (dimensions and memory
//! are limited before any pixel is read); it is turned upright by its EXIF orientation,
//! then re-encoded as JPEG in three sizes. Only the re-encoded files are kept, so no
//! metadata of the original survives: a photo taken at home does not tell where a
//! neighbour lives. Files go to the object store (`store`); rows say which exist.

use crate::access::{Standing, Viewer};
use crate::error::{Error, Result};
use crate::schema::{tool_images as ti, tools as t};
use crate::state::State;
use crate::tools;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, PutPayload};
use serde::{Deserialize, Serialize};
use std::io::Cursor;
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

/// The most images a tool may have.
pub const MAX_PER_TOOL: i64 = 12;
/// Larger pictures are refused before decoding (a small file can declare huge dimensions).
const MAX_DIMENSION: u32 = 10_000;
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;
const JPEG_QUALITY: u8 = 82;

platform::text_enum! {
    /// The sizes every image is kept in (the longest side, at most).
    pub enum Size {
        /// 240 px: lists.
        Thumbnail = "thumbnail",
        /// 800 px: a tool's page.
        Medium = "medium",
        /// 1600 px: zoom.
        Large = "large",
    }
}

impl Size {
    pub fn longest_side(self) -> u32 {
        match self {
            Size::Thumbnail => 240,
            Size::Medium => 800,
            Size::Large => 1600,
        }
    }
}

/// Where the files are: the local filesystem or S3 (MinIO, any S3).
pub type Store = Arc<dyn ObjectStore>;

/// The store a `CATALOG_STORE_URL` names: `s3://bucket[/prefix]` (credentials and endpoint
/// from the usual `AWS_*` variables) or a directory path (created if missing).
pub fn store(url: &str) -> anyhow::Result<Store> {
    if let Some(rest) = url.strip_prefix("s3://") {
        let bucket = rest.split('/').next().unwrap_or(rest);
        let s3 = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()?;
        let prefix = rest
            .split_once('/')
            .map(|(_, p)| p.trim_matches('/'))
            .unwrap_or("");
        if prefix.is_empty() {
            return Ok(Arc::new(s3));
        }
        return Ok(Arc::new(object_store::prefix::PrefixStore::new(s3, prefix)));
    }
    let dir = url.strip_prefix("file://").unwrap_or(url);
    std::fs::create_dir_all(dir)?;
    let dir = std::fs::canonicalize(dir)?;
    Ok(Arc::new(
        object_store::local::LocalFileSystem::new_with_prefix(dir)?,
    ))
}

fn key(tool: Uuid, image: Uuid, size: Size) -> StorePath {
    StorePath::from(format!("tools/{tool}/{image}/{}.jpg", size.as_str()))
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ti)]
pub struct Image {
    pub id: Uuid,
    pub tool_id: Uuid,
    pub position: i32,
    pub width: i32,
    pub height: i32,
    pub created_at: DateTime<Utc>,
}

/// Where each size of an image is served (relative to the API's origin).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ImageUrls {
    pub thumbnail: String,
    pub medium: String,
    pub large: String,
}

pub fn urls(tool: Uuid, image: Uuid) -> ImageUrls {
    let url = |s: Size| format!("/api/tools/{tool}/images/{image}/{}", s.as_str());
    ImageUrls {
        thumbnail: url(Size::Thumbnail),
        medium: url(Size::Medium),
        large: url(Size::Large),
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageView {
    pub id: Uuid,
    pub tool_id: Uuid,
    pub position: i32,
    /// The tool's first image (lists show it).
    pub main: bool,
    /// Of the large size.
    pub width: i32,
    pub height: i32,
    pub urls: ImageUrls,
    pub created_at: DateTime<Utc>,
}

impl Image {
    fn view(&self, main: Option<Uuid>) -> ImageView {
        ImageView {
            id: self.id,
            tool_id: self.tool_id,
            position: self.position,
            main: main == Some(self.id),
            width: self.width,
            height: self.height,
            urls: urls(self.tool_id, self.id),
            created_at: self.created_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImagePatch {
    /// `true` makes it the tool's main image (`false` is refused: choose another instead).
    pub main: Option<bool>,
    #[validate(range(min = 0, max = 100))]
    #[schema(minimum = 0, maximum = 100)]
    pub position: Option<i32>,
}

/// The three sizes of an upload, re-encoded; the large one's dimensions.
pub struct Processed {
    pub files: Vec<(Size, Vec<u8>)>,
    pub width: u32,
    pub height: u32,
}

/// Decodes, turns upright, resizes and re-encodes an upload. CPU-bound: call it off the
/// async workers (`web::block`).
pub fn process(bytes: &[u8]) -> Result<Processed> {
    let refuse = |m: &str| Error::field("file", m.to_owned());
    let format =
        image::guess_format(bytes).map_err(|_| refuse("not an image (JPEG, PNG or WebP)"))?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
    ) {
        return Err(refuse("only JPEG, PNG and WebP images are taken"));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| refuse(&format!("not a readable image: {e}")))?;
    let orientation = decoder.orientation().ok();
    let mut picture = DynamicImage::from_decoder(decoder)
        .map_err(|e| refuse(&format!("not a readable image: {e}")))?;
    if let Some(o) = orientation {
        picture.apply_orientation(o);
    }
    // JPEG has no alpha: flatten first, so transparent areas do not turn black at random.
    let picture = DynamicImage::ImageRgb8(picture.to_rgb8());
    let mut files = Vec::new();
    let (mut width, mut height) = (picture.width(), picture.height());
    for size in Size::ALL {
        let side = size.longest_side();
        let resized = if picture.width().max(picture.height()) > side {
            picture.resize(side, side, image::imageops::FilterType::Triangle)
        } else {
            // Never enlarged.
            picture.clone()
        };
        if *size == Size::Large {
            (width, height) = (resized.width(), resized.height());
        }
        let mut out = Vec::new();
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
        resized
            .write_with_encoder(encoder)
            .map_err(|e| Error::Internal(anyhow::anyhow!("encoding a {}: {e}", size.as_str())))?;
        files.push((*size, out));
    }
    Ok(Processed {
        files,
        width,
        height,
    })
}

async fn managed_tool(conn: &mut AsyncPgConnection, viewer: Viewer, tool: Uuid) -> Result<()> {
    match tools::visible(conn, viewer, tool).await?.1 {
        Standing::Manage => Ok(()),
        _ => Err(Error::Forbidden(
            "only the community's manager, its moderators and admins manage its tools",
        )),
    }
}

/// Stores an upload as a new image of the tool (the main one if it is the first).
pub async fn add(state: &State, viewer: Viewer, tool: Uuid, upload: Bytes) -> Result<ImageView> {
    {
        let mut conn = platform::db::conn(&state.pool).await?;
        managed_tool(&mut conn, viewer, tool).await?;
    }
    let processed = actix_web::web::block(move || process(&upload))
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("image worker: {e}")))??;
    let id = Uuid::now_v7();
    // Files first, row second: a crash in between leaves files no row names (harmless,
    // swept by `tools/` prefix listing), never a row without its files.
    for (size, bytes) in processed.files {
        state
            .store
            .put(&key(tool, id, size), PutPayload::from(bytes))
            .await
            .map_err(|e| Error::Unavailable(format!("storing an image: {e}")))?;
    }
    let mut conn = platform::db::conn(&state.pool).await?;
    let width = i32::try_from(processed.width).unwrap_or(i32::MAX);
    let height = i32::try_from(processed.height).unwrap_or(i32::MAX);
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let main: Option<Option<Uuid>> = t::table
                .find(tool)
                .select(t::main_image_id)
                .for_update()
                .first(conn)
                .await
                .optional()?;
            let main = main.ok_or(Error::NotFound("tool"))?;
            let count: i64 = ti::table
                .filter(ti::tool_id.eq(tool))
                .count()
                .get_result(conn)
                .await?;
            if count >= MAX_PER_TOOL {
                return Err(Error::rule(
                    "too_many_images",
                    format!("a tool has at most {MAX_PER_TOOL} images"),
                ));
            }
            let image: Image = diesel::insert_into(ti::table)
                .values((
                    ti::id.eq(id),
                    ti::tool_id.eq(tool),
                    ti::position.eq(i32::try_from(count).unwrap_or(0)),
                    ti::width.eq(width),
                    ti::height.eq(height),
                ))
                .returning(Image::as_returning())
                .get_result(conn)
                .await?;
            let main = match main {
                Some(m) => Some(m),
                None => {
                    diesel::update(t::table.find(tool))
                        .set(t::main_image_id.eq(Some(id)))
                        .execute(conn)
                        .await?;
                    Some(id)
                }
            };
            Ok(image.view(main))
        }
        .scope_boxed()
    })
    .await
}

pub async fn list(state: &State, viewer: Viewer, tool: Uuid) -> Result<Vec<ImageView>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    tools::visible(&mut conn, viewer, tool).await?;
    let main: Option<Uuid> = t::table
        .find(tool)
        .select(t::main_image_id)
        .first(&mut conn)
        .await?;
    let rows: Vec<Image> = ti::table
        .filter(ti::tool_id.eq(tool))
        .order((ti::position.asc(), ti::created_at.asc()))
        .select(Image::as_select())
        .load(&mut conn)
        .await?;
    Ok(rows.iter().map(|i| i.view(main)).collect())
}

/// One size of an image, if the viewer may see the tool; and whether anyone may (for the
/// caching headers).
pub async fn file(
    state: &State,
    viewer: Viewer,
    tool: Uuid,
    image: Uuid,
    size: Size,
) -> Result<(Bytes, bool)> {
    let public = {
        let mut conn = platform::db::conn(&state.pool).await?;
        tools::visible(&mut conn, viewer, tool).await?;
        let found: Option<Uuid> = ti::table
            .find(image)
            .filter(ti::tool_id.eq(tool))
            .select(ti::id)
            .first(&mut conn)
            .await
            .optional()?;
        found.ok_or(Error::NotFound("image"))?;
        tools::visible(&mut conn, Viewer::Anonymous, tool)
            .await
            .is_ok()
    };
    let got = state
        .store
        .get(&key(tool, image, size))
        .await
        .map_err(|e| match e {
            object_store::Error::NotFound { .. } => Error::NotFound("image"),
            other => Error::Unavailable(format!("reading an image: {other}")),
        })?;
    let bytes = got
        .bytes()
        .await
        .map_err(|e| Error::Unavailable(format!("reading an image: {e}")))?;
    Ok((bytes, public))
}

pub async fn update(
    state: &State,
    viewer: Viewer,
    tool: Uuid,
    image: Uuid,
    patch: ImagePatch,
) -> Result<ImageView> {
    if patch.main == Some(false) {
        return Err(Error::field(
            "main",
            "make another image the main one instead",
        ));
    }
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            managed_tool(conn, viewer, tool).await?;
            let mut found: Image = ti::table
                .find(image)
                .filter(ti::tool_id.eq(tool))
                .select(Image::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?
                .ok_or(Error::NotFound("image"))?;
            if let Some(position) = patch.position {
                found = diesel::update(ti::table.find(image))
                    .set(ti::position.eq(position))
                    .returning(Image::as_returning())
                    .get_result(conn)
                    .await?;
            }
            if patch.main == Some(true) {
                diesel::update(t::table.find(tool))
                    .set(t::main_image_id.eq(Some(image)))
                    .execute(conn)
                    .await?;
            }
            let main: Option<Uuid> = t::table
                .find(tool)
                .select(t::main_image_id)
                .first(conn)
                .await?;
            Ok(found.view(main))
        }
        .scope_boxed()
    })
    .await
}

/// Removes an image; the next one in order becomes the main one if it was.
pub async fn delete(state: &State, viewer: Viewer, tool: Uuid, image: Uuid) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            managed_tool(conn, viewer, tool).await?;
            let main: Option<Uuid> = t::table
                .find(tool)
                .select(t::main_image_id)
                .for_update()
                .first(conn)
                .await?;
            let n = diesel::delete(ti::table.find(image).filter(ti::tool_id.eq(tool)))
                .execute(conn)
                .await?;
            if n == 0 {
                return Err(Error::NotFound("image"));
            }
            if main == Some(image) {
                let next: Option<Uuid> = ti::table
                    .filter(ti::tool_id.eq(tool))
                    .order((ti::position.asc(), ti::created_at.asc()))
                    .select(ti::id)
                    .first(conn)
                    .await
                    .optional()?;
                diesel::update(t::table.find(tool))
                    .set(t::main_image_id.eq(next))
                    .execute(conn)
                    .await?;
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await?;
    // After the commit: a failure here leaves files no row names, never the reverse.
    for size in Size::ALL {
        if let Err(e) = state.store.delete(&key(tool, image, *size)).await {
            tracing::warn!(error = %e, %image, "an image file was not deleted");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb};

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let img: ImageBuffer<Rgb<u8>, Vec<u8>> = ImageBuffer::from_fn(width, height, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
                &mut out, 90,
            ))
            .unwrap();
        out
    }

    /// A JPEG with an APP1 EXIF segment (GPS included) spliced in after SOI.
    fn with_exif(jpeg: &[u8]) -> Vec<u8> {
        let payload =
            b"Exif\0\0MM\0*\0\0\0\x08\0\x01\x88\x25\0\x04\0\0\0\x01\0\0\0\x1aGPS-51.4545-2.5879";
        let len = u16::try_from(payload.len() + 2).unwrap().to_be_bytes();
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1, len[0], len[1]]);
        out.extend_from_slice(payload);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn uploads_come_out_in_three_sizes_without_their_metadata() {
        let original = with_exif(&jpeg(2000, 1000));
        assert!(original.windows(4).any(|w| w == b"Exif"));
        let p = process(&original).unwrap();
        assert_eq!((p.width, p.height), (1600, 800));
        assert_eq!(p.files.len(), 3);
        for (size, bytes) in &p.files {
            assert!(
                !bytes.windows(4).any(|w| w == b"Exif"),
                "{size} kept the EXIF block"
            );
            assert!(
                !bytes.windows(3).any(|w| w == b"GPS"),
                "{size} kept the GPS text"
            );
            let back = image::load_from_memory(bytes).unwrap();
            assert!(back.width().max(back.height()) <= size.longest_side());
        }
    }

    #[test]
    fn small_images_are_not_enlarged_and_non_images_are_refused() {
        let p = process(&jpeg(100, 50)).unwrap();
        assert_eq!((p.width, p.height), (100, 50));
        assert!(matches!(
            process(b"GIF89a not really"),
            Err(Error::Field { .. })
        ));
        assert!(matches!(process(b"hello, world"), Err(Error::Field { .. })));
        // A JPEG header promising a huge picture is refused by the limits, not decoded.
        let mut truncated = jpeg(64, 64);
        truncated.truncate(200);
        assert!(matches!(process(&truncated), Err(Error::Field { .. })));
    }
}
