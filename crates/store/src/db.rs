//! The store's SQL layer: one connection type over the two backends
//! (SQLite through rusqlite, PostgreSQL through the synchronous `postgres`
//! client), so every query is written once.
//!
//! Queries use SQLite's numbered placeholders (`?1`, `?2`...); for
//! PostgreSQL they are rewritten to `$1`, `$2`... once and the prepared
//! statement is cached. Values cross the layer as [`Val`] (null, i64, f64,
//! text) and come back as [`Row`]s of them. Transactions are explicit
//! (`BEGIN`/`COMMIT`, rolled back on any error) so that the same code runs
//! on both connections. On SQLite every transaction is `BEGIN IMMEDIATE`: it
//! takes the write lock up front, where the busy timeout applies. A deferred
//! transaction that reads first and then writes cannot wait for the lock
//! (another writer may have changed what it read) and fails at once with
//! "database is locked" whenever a second Ward process writes.

use crate::Error;
use std::collections::HashMap;

/// Which SQL dialect a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// One value passed to or read from a query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    /// A list of texts: a `text[]` on PostgreSQL, a JSON array on SQLite
    /// (queries read it with [`any_text`]).
    Texts(Vec<String>),
}

/// `column` is one of the texts of list parameter `?n` ([`Val::Texts`]).
pub(crate) fn any_text(d: Dialect, column: &str, n: usize) -> String {
    match d {
        Dialect::Postgres => format!("{column} = ANY(?{n}::text[])"),
        Dialect::Sqlite => format!("{column} IN (SELECT value FROM json_each(?{n}))"),
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(v)
    }
}
impl From<u64> for Val {
    fn from(v: u64) -> Val {
        Val::Int(v.min(i64::MAX as u64) as i64)
    }
}
impl From<u32> for Val {
    fn from(v: u32) -> Val {
        Val::Int(v as i64)
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Val {
        Val::Int(v as i64)
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::Real(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_string())
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Val {
        Val::Text(v.clone())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Val {
        v.map_or(Val::Null, Into::into)
    }
}

/// Builds a `&[Val]` parameter list.
macro_rules! params {
    ($($e:expr),* $(,)?) => { &[$($crate::db::Val::from($e)),*][..] };
}
pub(crate) use params;

/// A row of [`Conn::query_each`], read in place.
pub(crate) enum RowRef<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a postgres::Row),
}

impl<'a> RowRef<'a> {
    /// A text column, borrowed.
    pub fn str(&self, i: usize) -> Result<&'a str, Error> {
        match self {
            RowRef::Sqlite(r) => match r.get_ref(i)? {
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                    std::str::from_utf8(t)
                        .map_err(|_| Error::Value(format!("column {i} is not UTF-8")))
                }
                _ => Err(Error::Value(format!("column {i} is not text"))),
            },
            RowRef::Postgres(r) => Ok(r.try_get::<_, &str>(i)?),
        }
    }
    /// An integer column.
    pub fn i64(&self, i: usize) -> Result<i64, Error> {
        match self {
            RowRef::Sqlite(r) => match r.get_ref(i)? {
                rusqlite::types::ValueRef::Integer(v) => Ok(v),
                rusqlite::types::ValueRef::Real(v) => Ok(v as i64),
                _ => Err(Error::Value(format!("column {i} is not an integer"))),
            },
            RowRef::Postgres(r) => Ok(r.try_get::<_, i64>(i)?),
        }
    }
}

/// One result row.
#[derive(Debug, Clone)]
pub(crate) struct Row(Vec<Val>);

impl Row {
    fn at(&self, i: usize) -> Result<&Val, Error> {
        self.0
            .get(i)
            .ok_or_else(|| Error::Value(format!("column {i} missing")))
    }
    /// An integer column (booleans read as 0/1).
    pub fn i64(&self, i: usize) -> Result<i64, Error> {
        self.opt_i64(i)?
            .ok_or_else(|| Error::Value(format!("column {i} is null")))
    }
    /// A nullable integer column.
    pub fn opt_i64(&self, i: usize) -> Result<Option<i64>, Error> {
        match self.at(i)? {
            Val::Null => Ok(None),
            Val::Int(v) => Ok(Some(*v)),
            Val::Real(v) => Ok(Some(*v as i64)),
            Val::Text(t) => Err(Error::Value(format!(
                "column {i}: text {:?} where an integer was expected",
                t.chars().take(20).collect::<String>()
            ))),
            Val::Texts(_) => Err(Error::Value(format!("column {i} is a list"))),
        }
    }
    /// A text column.
    pub fn str(&self, i: usize) -> Result<String, Error> {
        self.opt_str(i)?
            .ok_or_else(|| Error::Value(format!("column {i} is null")))
    }
    /// A nullable text column.
    pub fn opt_str(&self, i: usize) -> Result<Option<String>, Error> {
        match self.at(i)? {
            Val::Null => Ok(None),
            Val::Text(t) => Ok(Some(t.clone())),
            _ => Err(Error::Value(format!("column {i} is not text"))),
        }
    }
}

/// A PostgreSQL connection with its statement cache.
pub(crate) struct Pg {
    pub client: postgres::Client,
    stmts: HashMap<String, postgres::Statement>,
    /// Sites' first ingests kept in memory for their rebuild.
    pub kept: crate::fresh::Kept,
}

/// A connection to either backend.
pub(crate) enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(Box<Pg>),
}

/// `?N` placeholders to `$N` (queries never hold a `?` in a literal).
pub(crate) fn to_pg(sql: &str) -> String {
    sql.replace('?', "$")
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        Ok(match self {
            Val::Null => ToSqlOutput::Owned(Value::Null),
            Val::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
            Val::Real(v) => ToSqlOutput::Owned(Value::Real(*v)),
            Val::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Val::Texts(v) => ToSqlOutput::Owned(Value::Text(
                serde_json::to_string(v)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
            )),
        })
    }
}

impl postgres::types::ToSql for Val {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        match self {
            Val::Null => Ok(postgres::types::IsNull::Yes),
            Val::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                Type::FLOAT8 => (*v as f64).to_sql(ty, out),
                _ => v.to_string().to_sql(ty, out),
            },
            Val::Real(v) => match *ty {
                Type::FLOAT4 => (*v as f32).to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Val::Text(t) => t.as_str().to_sql(ty, out),
            Val::Texts(v) => v.to_sql(ty, out),
        }
    }
    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }
    postgres::types::to_sql_checked!();
}

fn pg_row(r: &postgres::Row) -> Result<Row, Error> {
    use postgres::types::Type;
    let mut out = Vec::with_capacity(r.len());
    for (i, c) in r.columns().iter().enumerate() {
        let v = match *c.type_() {
            Type::INT8 => r.try_get::<_, Option<i64>>(i)?.map_or(Val::Null, Val::Int),
            Type::INT4 => r
                .try_get::<_, Option<i32>>(i)?
                .map_or(Val::Null, |v| Val::Int(v.into())),
            Type::INT2 => r
                .try_get::<_, Option<i16>>(i)?
                .map_or(Val::Null, |v| Val::Int(v.into())),
            Type::BOOL => r
                .try_get::<_, Option<bool>>(i)?
                .map_or(Val::Null, |v| Val::Int(v.into())),
            Type::FLOAT8 => r.try_get::<_, Option<f64>>(i)?.map_or(Val::Null, Val::Real),
            Type::FLOAT4 => r
                .try_get::<_, Option<f32>>(i)?
                .map_or(Val::Null, |v| Val::Real(v.into())),
            _ => r
                .try_get::<_, Option<String>>(i)?
                .map_or(Val::Null, Val::Text),
        };
        out.push(v);
    }
    Ok(Row(out))
}

fn lite_row(r: &rusqlite::Row<'_>, n: usize) -> rusqlite::Result<Row> {
    use rusqlite::types::ValueRef;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(match r.get_ref(i)? {
            ValueRef::Null => Val::Null,
            ValueRef::Integer(v) => Val::Int(v),
            ValueRef::Real(v) => Val::Real(v),
            ValueRef::Text(t) | ValueRef::Blob(t) => {
                Val::Text(String::from_utf8_lossy(t).into_owned())
            }
        });
    }
    Ok(Row(out))
}

impl Pg {
    pub fn new(client: postgres::Client) -> Pg {
        Pg {
            client,
            stmts: HashMap::new(),
            kept: crate::fresh::Kept::default(),
        }
    }

    fn stmt(&mut self, sql: &str) -> Result<postgres::Statement, Error> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(&to_pg(sql))?;
        if self.stmts.len() > 256 {
            self.stmts.clear();
        }
        self.stmts.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

fn pg_params(p: &[Val]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    p.iter()
        .map(|v| v as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

impl Conn {
    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs one statement; the number of rows it changed.
    pub fn execute(&mut self, sql: &str, p: &[Val]) -> Result<u64, Error> {
        match self {
            Conn::Sqlite(c) => {
                Ok(c.prepare_cached(sql)?
                    .execute(rusqlite::params_from_iter(p.iter()))? as u64)
            }
            Conn::Postgres(pg) => {
                let st = pg.stmt(sql)?;
                Ok(pg.client.execute(&st, &pg_params(p))?)
            }
        }
    }

    /// Runs a query; every row.
    pub fn query(&mut self, sql: &str, p: &[Val]) -> Result<Vec<Row>, Error> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let rows =
                    st.query_map(rusqlite::params_from_iter(p.iter()), |r| lite_row(r, n))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            }
            Conn::Postgres(pg) => {
                let st = pg.stmt(sql)?;
                pg.client
                    .query(&st, &pg_params(p))?
                    .iter()
                    .map(pg_row)
                    .collect()
            }
        }
    }

    /// Runs a query and hands each row to `f` as it arrives, borrowed (no
    /// owned copy of the result set): the bulk reads (a site's facts).
    pub fn query_each(
        &mut self,
        sql: &str,
        p: &[Val],
        mut f: impl FnMut(RowRef<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let mut rows = st.query(rusqlite::params_from_iter(p.iter()))?;
                while let Some(r) = rows.next()? {
                    f(RowRef::Sqlite(r))?;
                }
                Ok(())
            }
            Conn::Postgres(pg) => {
                use postgres::fallible_iterator::FallibleIterator;
                let st = pg.stmt(sql)?;
                let mut rows = pg.client.query_raw(&st, pg_params(p))?;
                while let Some(r) = rows.next()? {
                    f(RowRef::Postgres(&r))?;
                }
                Ok(())
            }
        }
    }

    /// Runs a query; its first row, if any.
    pub fn query_opt(&mut self, sql: &str, p: &[Val]) -> Result<Option<Row>, Error> {
        Ok(self.query(sql, p)?.into_iter().next())
    }

    /// Runs a query that yields exactly one row.
    pub fn query_one(&mut self, sql: &str, p: &[Val]) -> Result<Row, Error> {
        self.query_opt(sql, p)?
            .ok_or_else(|| Error::Value("query returned no row".into()))
    }

    /// Runs several statements without parameters.
    pub fn batch(&mut self, sql: &str) -> Result<(), Error> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Postgres(pg) => Ok(pg.client.batch_execute(sql)?),
        }
    }

    /// Runs `f` in a transaction: committed if it returns `Ok`, rolled back otherwise.
    pub fn transaction<T>(
        &mut self,
        f: impl FnOnce(&mut Conn) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.batch(match self.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        })?;
        let out = match f(self) {
            Ok(v) => match self.batch("COMMIT") {
                Ok(()) => Ok(v),
                Err(e) => {
                    let _ = self.batch("ROLLBACK");
                    Err(e)
                }
            },
            Err(e) => {
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        };
        if let Conn::Postgres(pg) = self {
            pg.kept.settle(out.is_ok());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_translate() {
        assert_eq!(
            to_pg("SELECT a FROM t WHERE b = ?1 AND c = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = $12"
        );
    }

    #[test]
    fn rollback_on_error() {
        let mut c = Conn::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        c.batch("CREATE TABLE t(x INTEGER)").unwrap();
        let r: Result<(), Error> = c.transaction(|c| {
            c.execute("INSERT INTO t(x) VALUES (?1)", params![1i64])?;
            Err(Error::Value("boom".into()))
        });
        assert!(r.is_err());
        assert_eq!(
            c.query_one("SELECT count(*) FROM t", &[])
                .unwrap()
                .i64(0)
                .unwrap(),
            0
        );
        c.transaction(|c| c.execute("INSERT INTO t(x) VALUES (?1)", params![Some(2i64)]))
            .unwrap();
        assert_eq!(
            c.query_one("SELECT x FROM t", &[])
                .unwrap()
                .opt_i64(0)
                .unwrap(),
            Some(2)
        );
    }
}
