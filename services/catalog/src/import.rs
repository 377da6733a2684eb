//! A community's tools as CSV: the export a library's managers edit in a spreadsheet, and
//! the import that reads it back, for whoever may create tools there (`access::managed`).
//!
//! The import is all or nothing. Every row is checked first, with the rules of
//! `POST /api/tools` (a [`NewTool`] is built from each row and validated as the route
//! validates it), the category and the tool id against the database; any problem refuses
//! the whole file, listing every one as `rows.<n>.<column>` (`n` counts data rows from 1),
//! and nothing is written. A clean file is written in one transaction through
//! [`tools::create_in`] and [`tools::update_in`], so each row emits the event the single
//! routes emit. A row with an id updates that tool: an export imported again changes
//! nothing but `updatedAt`, and creates nothing.
//!
//! Spreadsheets run a cell starting with `=`, `+`, `-` or `@` (and tab or carriage return)
//! as a formula, so the export puts an apostrophe before such cells (OWASP, CSV injection)
//! and the import takes it off again.

use crate::access::{self, Viewer};
use crate::communities::Community;
use crate::error::Error;
use crate::items::Status as ItemStatus;
use crate::schema::{categories as cat, items as i, tools as t};
use crate::state::State;
use crate::tools::{self, NewTool, Tool, ToolPatch};
use csv::ByteRecord;
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use platform::http::{ApiError, FieldError, RequestId};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

/// The columns, in the order the export writes them (the import takes any order).
pub const COLUMNS: [&str; 16] = [
    "id",
    "categoryId",
    "name",
    "description",
    "brand",
    "model",
    "dailyPrice",
    "weeklyPrice",
    "monthlyPrice",
    "deposit",
    "currency",
    "minRentalDays",
    "maxRentalDays",
    "bufferDays",
    "active",
    "items",
];

const ID: usize = 0;
const CATEGORY: usize = 1;
const NAME: usize = 2;
const DESCRIPTION: usize = 3;
const BRAND: usize = 4;
const MODEL: usize = 5;
const DAILY: usize = 6;
const WEEKLY: usize = 7;
const MONTHLY: usize = 8;
const DEPOSIT: usize = 9;
const CURRENCY: usize = 10;
const MIN_DAYS: usize = 11;
const MAX_DAYS: usize = 12;
const BUFFER: usize = 13;
const ACTIVE: usize = 14;
const ITEMS: usize = 15;

/// Without these a row cannot describe a tool, so a file must have them.
const REQUIRED: [usize; 4] = [CATEGORY, NAME, DAILY, DEPOSIT];

/// The largest file the import reads (above the server's JSON limit: a file of
/// [`MAX_ROWS`] tools with descriptions is bigger than any JSON body).
pub const MAX_BYTES: usize = 1024 * 1024;
/// Rows per file: one transaction writes them all, and its locks are held until the end.
pub const MAX_ROWS: usize = 2_000;

/// What a spreadsheet would start a formula with.
const FORMULA: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// What an import changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    /// Rows without an id: new tools.
    pub created: u32,
    /// Rows with an id: tools of the library changed.
    pub updated: u32,
}

/// Why an import wrote nothing.
#[derive(Debug)]
pub enum ImportError {
    /// The file: every problem found, by row and column.
    Refused(Vec<FieldError>),
    /// Anything else (access, the database), answered as the single routes answer it.
    Failed(Error),
}

impl From<Error> for ImportError {
    fn from(e: Error) -> Self {
        ImportError::Failed(e)
    }
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        ImportError::Failed(e.into())
    }
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Refused(errors) => ApiError::validation(errors)
                .with_message("the file has problems; nothing was imported"),
            ImportError::Failed(e) => e.into(),
        }
    }
}

// ----- export -----

/// Every tool of the library that is not deleted, inactive ones included, as CSV.
pub async fn export(state: &State, viewer: Viewer, community: Uuid) -> Result<Vec<u8>, Error> {
    let mut conn = platform::db::conn(&state.pool).await?;
    // One snapshot, so the item counts are those of the tools listed.
    let (tools, items) = conn
        .build_transaction()
        .read_only()
        .repeatable_read()
        .run::<_, Error, _>(|conn| {
            async move {
                let community = access::managed(conn, viewer, community).await?;
                let tools: Vec<Tool> = t::table
                    .filter(t::community_id.eq(community.id))
                    .filter(t::deleted_at.is_null())
                    .order(t::id)
                    .select(Tool::as_select())
                    .load(conn)
                    .await?;
                let ids: Vec<Uuid> = tools.iter().map(|tool| tool.id).collect();
                let items: Vec<(Uuid, i64)> = i::table
                    .filter(i::tool_id.eq_any(&ids))
                    .filter(i::status.ne(ItemStatus::Retired))
                    .group_by(i::tool_id)
                    .select((i::tool_id, count_star()))
                    .load(conn)
                    .await?;
                Ok((tools, items.into_iter().collect::<HashMap<_, _>>()))
            }
            .scope_boxed()
        })
        .await?;
    write_csv(&tools, &items).map_err(Error::Internal)
}

fn write_csv(tools: &[Tool], items: &HashMap<Uuid, i64>) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(COLUMNS)?;
    for tool in tools {
        let cells = cells(tool, items.get(&tool.id).copied().unwrap_or(0));
        out.write_record(cells.iter().map(|cell| escape(cell)))?;
    }
    Ok(out.into_inner().map_err(|e| e.into_error())?)
}

/// One tool's row, in [`COLUMNS`] order.
fn cells(tool: &Tool, items: i64) -> [String; 16] {
    let amount = |a: Option<i64>| a.map(|a| a.to_string()).unwrap_or_default();
    [
        tool.id.to_string(),
        tool.category_id.to_string(),
        tool.name.clone(),
        tool.description.clone(),
        tool.brand.clone().unwrap_or_default(),
        tool.model.clone().unwrap_or_default(),
        tool.daily_price.to_string(),
        amount(tool.weekly_price),
        amount(tool.monthly_price),
        tool.deposit.to_string(),
        tool.currency.as_str().to_owned(),
        tool.min_rental_days.to_string(),
        tool.max_rental_days.to_string(),
        tool.buffer_days.to_string(),
        tool.active.to_string(),
        items.to_string(),
    ]
}

/// A cell a spreadsheet would run as a formula, with an apostrophe before it. A cell that
/// already starts with apostrophes before such a character gets one more, so that
/// [`unescape`] gives back exactly what was exported.
fn escape(cell: &str) -> String {
    if cell.trim_start_matches('\'').starts_with(FORMULA) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// [`escape`] undone.
fn unescape(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.trim_start_matches('\'').starts_with(FORMULA) => rest,
        _ => cell,
    }
}

// ----- import -----

/// One data row, read and checked on its own.
#[derive(Debug)]
struct Row {
    /// 1-based, data rows only (the header is not counted).
    number: usize,
    /// The tool it updates; none for a new one.
    id: Option<Uuid>,
    /// None when the cell is not a category id (a problem already noted).
    category: Option<Uuid>,
    /// The row as the create route takes it (`initialItems` from `items`, new tools only),
    /// with stand-ins where a cell could not be read.
    tool: NewTool,
    active: Option<bool>,
}

/// A problem of one row, sorted by row and column before it is answered.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Problem {
    row: usize,
    /// An index in [`COLUMNS`]; none for the row as a whole.
    column: Option<usize>,
    message: String,
}

impl Problem {
    fn field(&self) -> String {
        match self.column {
            Some(c) => format!("rows.{}.{}", self.row, COLUMNS[c]),
            None => format!("rows.{}", self.row),
        }
    }
}

/// A rule of the tools module broken by a row (its field errors name their column).
fn broken(row: usize, e: Error) -> Problem {
    match e {
        Error::Field { field, message } => Problem {
            row,
            column: column_of(field),
            message,
        },
        other => Problem {
            row,
            column: None,
            message: other.to_string(),
        },
    }
}

fn refused(problems: Vec<Problem>) -> ImportError {
    let mut problems = problems;
    problems.sort();
    ImportError::Refused(
        problems
            .into_iter()
            .map(|p| FieldError {
                field: p.field(),
                message: p.message,
            })
            .collect(),
    )
}

fn file_error(field: &str, message: impl Into<String>) -> ImportError {
    ImportError::Refused(vec![FieldError {
        field: field.to_owned(),
        message: message.into(),
    }])
}

/// The column a field name of the tool's rules stands for (`initialItems` is `items`).
fn column_of(field: &str) -> Option<usize> {
    let field = if field == "initialItems" {
        "items"
    } else {
        field
    };
    COLUMNS.iter().position(|c| *c == field)
}

/// Creates and updates the library's tools from a CSV file (a header row, then one tool a
/// row), all in one transaction, or nothing at all.
pub async fn import(
    state: &State,
    viewer: Viewer,
    community: Uuid,
    body: &[u8],
    rid: &RequestId,
) -> Result<ImportSummary, ImportError> {
    let mut conn = platform::db::conn(&state.pool).await.map_err(Error::from)?;
    conn.transaction::<_, ImportError, _>(|conn| {
        async move {
            let community = access::managed(conn, viewer, community).await?;
            let (rows, mut problems) = parse(body, &community)?;
            let current = check_stored(conn, &rows, community.id, &mut problems).await?;
            if !problems.is_empty() {
                return Err(refused(problems));
            }
            write(conn, state, viewer, &community, rows, &current, rid).await
        }
        .scope_boxed()
    })
    .await
}

/// The rows of the file and what is wrong with them; `Err` for a file that has no rows to
/// speak of (no header, a bad header, too many rows).
fn parse(body: &[u8], community: &Community) -> Result<(Vec<Row>, Vec<Problem>), ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        // A row with too few or too many cells is that row's problem, not the file's.
        .flexible(true)
        .from_reader(body);
    let header = reader
        .byte_headers()
        .map_err(|e| file_error("header", format!("not readable as CSV: {e}")))?
        .clone();
    let positions = columns(&header)?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (index, record) in reader.byte_records().enumerate() {
        let number = index + 1;
        if number > MAX_ROWS {
            return Err(file_error(
                "rows",
                format!("at most {MAX_ROWS} rows in one file"),
            ));
        }
        let record = record.map_err(|e| {
            file_error(
                &format!("rows.{number}"),
                format!("not readable as CSV: {e}"),
            )
        })?;
        // Spreadsheets save trailing empty rows as bare commas: not rows of tools.
        if record.iter().all(|cell| cell.trim_ascii().is_empty()) {
            continue;
        }
        if record.len() != header.len() {
            problems.push(Problem {
                row: number,
                column: None,
                message: format!(
                    "has {} cells where the header has {}",
                    record.len(),
                    header.len()
                ),
            });
            continue;
        }
        let mut cells = Cells {
            row: number,
            record: &record,
            positions: &positions,
            problems: &mut problems,
        };
        rows.push(cells.row(community));
    }
    Ok((rows, problems))
}

/// Where each of [`COLUMNS`] is in the file (names matched without regard to case).
fn columns(header: &ByteRecord) -> Result<[Option<usize>; 16], ImportError> {
    let mut positions = [None; 16];
    let mut errors = Vec::new();
    if header.is_empty() || header.iter().all(|c| c.is_empty()) {
        return Err(file_error(
            "header",
            format!(
                "the file must start with a header row: {}",
                COLUMNS.join(",")
            ),
        ));
    }
    for (at, name) in header.iter().enumerate() {
        let name = String::from_utf8_lossy(name);
        let name = name.trim();
        match COLUMNS.iter().position(|c| c.eq_ignore_ascii_case(name)) {
            Some(c) if positions[c].is_some() => {
                errors.push(format!("{} appears twice", COLUMNS[c]))
            }
            Some(c) => positions[c] = Some(at),
            None => errors.push(format!(
                "unknown column {name:?}; the columns are {}",
                COLUMNS.join(",")
            )),
        }
    }
    for c in REQUIRED {
        if positions[c].is_none() {
            errors.push(format!("the column {} is required", COLUMNS[c]));
        }
    }
    if errors.is_empty() {
        Ok(positions)
    } else {
        Err(ImportError::Refused(
            errors
                .into_iter()
                .map(|message| FieldError {
                    field: "header".to_owned(),
                    message,
                })
                .collect(),
        ))
    }
}

/// The cells of one record, read by column, each problem noted once.
struct Cells<'a> {
    row: usize,
    record: &'a ByteRecord,
    positions: &'a [Option<usize>; 16],
    problems: &'a mut Vec<Problem>,
}

impl Cells<'_> {
    fn problem(&mut self, column: usize, message: impl Into<String>) {
        self.problems.push(Problem {
            row: self.row,
            column: Some(column),
            message: message.into(),
        });
    }

    fn has_problem(&self, column: usize) -> bool {
        // This row's problems are the last ones noted: rows are read in order.
        self.problems
            .iter()
            .rev()
            .take_while(|p| p.row == self.row)
            .any(|p| p.column == Some(column))
    }

    /// The cell's text, the export's apostrophe taken off; `None` for an empty cell or a
    /// column the file does not have.
    fn text(&mut self, column: usize) -> Option<String> {
        let raw = self.positions[column].and_then(|at| self.record.get(at))?;
        let Ok(text) = std::str::from_utf8(raw) else {
            self.problem(column, "is not valid UTF-8");
            return None;
        };
        // What the JSON routes refuse before any handler (the kit's text guard).
        if text.contains('\0') {
            self.problem(column, "must not contain a NUL character (U+0000)");
            return None;
        }
        let text = unescape(text);
        (!text.trim().is_empty()).then(|| text.to_owned())
    }

    fn required(&mut self, column: usize) -> Option<String> {
        let text = self.text(column);
        if text.is_none() && !self.has_problem(column) {
            self.problem(column, "is required");
        }
        text
    }

    fn parsed<T: FromStr>(&mut self, column: usize, text: Option<String>, what: &str) -> Option<T> {
        let value = text?.trim().parse().ok();
        if value.is_none() {
            self.problem(column, format!("must be {what}"));
        }
        value
    }

    fn number<T: FromStr>(&mut self, column: usize) -> Option<T> {
        let text = self.text(column);
        self.parsed(column, text, "a whole number")
    }

    fn amount(&mut self, column: usize) -> Option<i64> {
        let text = self.text(column);
        self.parsed(column, text, "a whole number of minor units (cents)")
    }

    fn flag(&mut self, column: usize) -> Option<bool> {
        let text = self.text(column)?;
        match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" => Some(false),
            _ => {
                self.problem(column, "must be true or false");
                None
            }
        }
    }

    /// The row, its problems noted.
    fn row(&mut self, community: &Community) -> Row {
        let id_text = self.text(ID);
        // A row naming a tool updates it, even when the id is mistyped (a problem noted).
        let updating = id_text.is_some();
        let id: Option<Uuid> =
            self.parsed(ID, id_text, "a tool id (a UUID), or empty for a new tool");
        let category_text = self.required(CATEGORY);
        let category: Option<Uuid> = self.parsed(CATEGORY, category_text, "a category id (a UUID)");
        let name = self.required(NAME);
        let daily_text = self.required(DAILY);
        let daily = self.parsed(DAILY, daily_text, "a whole number of minor units (cents)");
        let deposit_text = self.required(DEPOSIT);
        let deposit = self.parsed(
            DEPOSIT,
            deposit_text,
            "a whole number of minor units (cents)",
        );
        let tool = NewTool {
            community_id: community.id,
            // Stand-ins where a problem is already noted: the rules still run on the rest.
            category_id: category.unwrap_or_default(),
            name: name.unwrap_or_else(|| "-".to_owned()),
            description: self.text(DESCRIPTION).unwrap_or_default(),
            brand: self.text(BRAND),
            model: self.text(MODEL),
            specifications: Vec::new(),
            daily_price: daily.unwrap_or(0),
            weekly_price: self.amount(WEEKLY),
            monthly_price: self.amount(MONTHLY),
            deposit: deposit.unwrap_or(0),
            min_rental_days: self.number(MIN_DAYS),
            max_rental_days: self.number(MAX_DAYS),
            buffer_days: self.number(BUFFER),
            // The count of an existing tool's items is for reading: its inventory changes
            // item by item (`/api/tools/{id}/items`), not from a file.
            initial_items: if updating { None } else { self.number(ITEMS) },
        };
        let active = self.flag(ACTIVE);
        let currency = self.text(CURRENCY).map(|c| c.trim().to_owned());
        if let Err(errors) = tool.validate() {
            for e in platform::http::validation::field_errors(&errors) {
                let column = column_of(&e.field);
                // A stand-in value's complaint would repeat the problem already noted.
                if column.is_some_and(|c| self.has_problem(c)) {
                    continue;
                }
                self.problems.push(Problem {
                    row: self.row,
                    column,
                    message: e.message,
                });
            }
        }
        if let Some(currency) = &currency
            && !currency.eq_ignore_ascii_case(community.currency.as_str())
        {
            self.problem(
                CURRENCY,
                format!(
                    "the library's prices are in {}",
                    community.currency.as_str()
                ),
            );
        }
        // New tools' defaults, as the create route applies them; an update's empty cells
        // keep the tool's values, checked once the tool is loaded.
        if !updating
            && let Err(e) = tools::check_lengths(
                tool.min_rental_days.unwrap_or(1),
                tool.max_rental_days.unwrap_or(30),
            )
        {
            self.problems.push(broken(self.row, e));
        }
        Row {
            number: self.row,
            id,
            category,
            tool,
            active,
        }
    }
}

/// What only the database can tell: active categories, and that each id is one of this
/// library's tools, named once. Returns those tools, locked until the import commits.
async fn check_stored(
    conn: &mut AsyncPgConnection,
    rows: &[Row],
    community: Uuid,
    problems: &mut Vec<Problem>,
) -> Result<HashMap<Uuid, Tool>, ImportError> {
    let categories: Vec<Uuid> = rows
        .iter()
        .filter_map(|r| r.category)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let active: HashSet<Uuid> = cat::table
        .filter(cat::id.eq_any(&categories))
        .filter(cat::active.eq(true))
        .select(cat::id)
        .load::<Uuid>(conn)
        .await?
        .into_iter()
        .collect();
    let ids: Vec<Uuid> = rows.iter().filter_map(|r| r.id).collect();
    // Locked in id order, the order holds lock tools in, so the two cannot deadlock.
    let current: HashMap<Uuid, Tool> = t::table
        .filter(t::id.eq_any(&ids))
        .filter(t::community_id.eq(community))
        .filter(t::deleted_at.is_null())
        .order(t::id)
        .select(Tool::as_select())
        .for_update()
        .load::<Tool>(conn)
        .await?
        .into_iter()
        .map(|tool| (tool.id, tool))
        .collect();
    let mut seen: HashMap<Uuid, usize> = HashMap::new();
    for row in rows {
        let problem = |column: usize, message: String| Problem {
            row: row.number,
            column: Some(column),
            message,
        };
        if row.category.is_some_and(|c| !active.contains(&c)) {
            problems.push(problem(
                CATEGORY,
                "no active category has this id".to_owned(),
            ));
        }
        let Some(id) = row.id else { continue };
        if let Some(first) = seen.insert(id, row.number) {
            problems.push(problem(ID, format!("the same tool as row {first}")));
            continue;
        }
        // Another library's tool is answered like one that does not exist.
        let Some(tool) = current.get(&id) else {
            problems.push(problem(
                ID,
                "no tool of this library has this id".to_owned(),
            ));
            continue;
        };
        let min = row.tool.min_rental_days.unwrap_or(tool.min_rental_days);
        let max = row.tool.max_rental_days.unwrap_or(tool.max_rental_days);
        if let Err(Error::Field { message, .. }) = tools::check_lengths(min, max) {
            problems.push(problem(MAX_DAYS, message));
        }
    }
    Ok(current)
}

/// Writes checked rows, in file order. A rule the write still meets (a category
/// deactivated since the check) is that row's problem, and the transaction rolls back.
async fn write(
    conn: &mut AsyncPgConnection,
    state: &State,
    viewer: Viewer,
    community: &Community,
    rows: Vec<Row>,
    current: &HashMap<Uuid, Tool>,
    rid: &RequestId,
) -> Result<ImportSummary, ImportError> {
    let mut summary = ImportSummary {
        created: 0,
        updated: 0,
    };
    for row in rows {
        let number = row.number;
        // Every id was found among the library's tools by the check: none here is new.
        let written = match row.id.and_then(|id| current.get(&id)) {
            None => create(conn, state, viewer, community, row, rid)
                .await
                .map(|()| summary.created += 1),
            Some(tool) => tools::update_in(conn, state, viewer, tool.id, patch(row, tool), rid)
                .await
                .map(|_| summary.updated += 1),
        };
        match written {
            Ok(()) => {}
            Err(e @ Error::Field { .. }) => return Err(refused(vec![broken(number, e)])),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(summary)
}

/// A new tool, as the create route makes it. The route has no `active` (a tool starts
/// active), so a row saying `false` is then changed as PATCH would change it: the
/// projections learn it from the events, created then updated.
async fn create(
    conn: &mut AsyncPgConnection,
    state: &State,
    viewer: Viewer,
    community: &Community,
    row: Row,
    rid: &RequestId,
) -> Result<(), Error> {
    let tool = tools::create_in(conn, state, viewer, community, &row.tool, rid).await?;
    if row.active == Some(false) {
        let patch = ToolPatch {
            active: Some(false),
            ..ToolPatch::default()
        };
        tools::update_in(conn, state, viewer, tool.id, patch, rid).await?;
    }
    Ok(())
}

/// An update row as the PATCH route's body: every column the file has set, specifications
/// (not a column) kept, and an empty count of days or `active` keeping the tool's value.
fn patch(row: Row, tool: &Tool) -> ToolPatch {
    let new = row.tool;
    ToolPatch {
        category_id: Some(new.category_id),
        name: Some(new.name),
        description: Some(new.description),
        brand: Some(new.brand),
        model: Some(new.model),
        specifications: None,
        daily_price: Some(new.daily_price),
        weekly_price: Some(new.weekly_price),
        monthly_price: Some(new.monthly_price),
        deposit: Some(new.deposit),
        min_rental_days: new.min_rental_days.or(Some(tool.min_rental_days)),
        max_rental_days: new.max_rental_days.or(Some(tool.max_rental_days)),
        buffer_days: new.buffer_days.or(Some(tool.buffer_days)),
        active: row.active.or(Some(tool.active)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::communities::Visibility;
    use platform::money::Currency;

    fn library() -> Community {
        Community {
            id: Uuid::now_v7(),
            name: "Elm Row".into(),
            currency: Currency::parse("GBP").unwrap(),
            catalog_visibility: Visibility::Members,
            manager_id: Uuid::now_v7(),
            deleted: false,
        }
    }

    fn problems(file: &str) -> Vec<String> {
        let (_, problems) = parse(file.as_bytes(), &library()).unwrap();
        let mut problems = problems;
        problems.sort();
        problems.iter().map(Problem::field).collect()
    }

    fn refusal(file: &str) -> Vec<FieldError> {
        match parse(file.as_bytes(), &library()) {
            Err(ImportError::Refused(errors)) => errors,
            other => panic!("expected a refused file, got {other:?}"),
        }
    }

    #[test]
    fn formula_cells_get_an_apostrophe_that_the_import_takes_off() {
        for (cell, exported) in [
            ("=1+1", "'=1+1"),
            ("+44 20 7946 0000", "'+44 20 7946 0000"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("'=already", "''=already"),
            ("Drill", "Drill"),
            ("'quoted", "'quoted"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(escape(cell), exported, "{cell:?}");
            assert_eq!(unescape(exported), cell, "{exported:?}");
        }
    }

    #[test]
    fn a_row_is_read_with_the_create_routes_rules_and_defaults() {
        let category = Uuid::now_v7();
        let file = format!(
            "\u{feff}name,categoryId,dailyPrice,deposit,weeklyPrice,items,active\n\
             \"'=Drill, 18V\",{category},1200,5000,,2,false\n,,,,,,\n"
        );
        let (rows, problems) = parse(file.as_bytes(), &library()).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rows.len(), 1, "the row of bare commas is not a tool");
        let row = &rows[0];
        assert_eq!(row.number, 1);
        assert_eq!(row.id, None);
        assert_eq!(row.category, Some(category));
        assert_eq!(row.tool.name, "=Drill, 18V");
        assert_eq!(row.tool.daily_price, 1200);
        assert_eq!(row.tool.weekly_price, None);
        assert_eq!(row.tool.initial_items, Some(2));
        assert_eq!(row.tool.min_rental_days, None);
        assert_eq!(row.active, Some(false));
    }

    #[test]
    fn every_problem_of_every_row_is_named_by_row_and_column() {
        let category = Uuid::now_v7();
        let file = format!(
            "categoryId,name,dailyPrice,deposit,minRentalDays,maxRentalDays,currency,items,id\n\
             {category},Good,100,0,,,GBP,,\n\
             nope,,-1,x,10,5,EUR,101,\n\
             {category},Update,100,0,,,,500,{category}\n\
             {category},Short row\n\
             {category},Nul\0,100,0,,,,,not-a-uuid\n"
        );
        assert_eq!(
            problems(&file),
            [
                "rows.2.categoryId",
                "rows.2.name",
                "rows.2.dailyPrice",
                "rows.2.deposit",
                "rows.2.currency",
                "rows.2.maxRentalDays",
                "rows.2.items",
                "rows.4",
                "rows.5.id",
                "rows.5.name",
            ]
        );
    }

    #[test]
    fn a_bad_header_or_too_many_rows_refuse_the_file() {
        let errors = refusal("name,name,colour\n");
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert!(errors.iter().all(|e| e.field == "header"), "{errors:?}");
        assert!(messages.contains(&"name appears twice"), "{messages:?}");
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("unknown column \"colour\""))
        );
        assert!(messages.contains(&"the column categoryId is required"));
        assert_eq!(refusal("")[0].field, "header");

        let mut file = String::from("categoryId,name,dailyPrice,deposit\n");
        for _ in 0..=MAX_ROWS {
            file.push_str(&format!("{},Saw,1,0\n", Uuid::nil()));
        }
        assert_eq!(refusal(&file)[0].field, "rows");
    }
}
