//! Money in two columns: what `to_columns` writes, the `(BigInt, Text)` pair reads back as
//! one value, including from a `CHAR(3)` column, and a bad stored code is an error.

use diesel::prelude::*;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use platform::money::{Currency, Money};

diesel::table! {
    prices (id) {
        id -> Int8,
        price_amount -> Int8,
        price_currency -> Bpchar,
    }
}

#[derive(Queryable, Selectable, Debug, PartialEq)]
#[diesel(table_name = prices, check_for_backend(diesel::pg::Pg))]
struct PriceRow {
    id: i64,
    #[diesel(select_expression = (prices::price_amount, prices::price_currency))]
    #[diesel(select_expression_type = (prices::price_amount, prices::price_currency))]
    price: Money,
}

#[tokio::test]
async fn money_round_trips_through_two_columns() {
    let db = crate::common::db().await;
    let pool = crate::common::pool(&db);
    let mut conn = pool.get().await.unwrap();
    conn.batch_execute(
        "CREATE TABLE prices (
             id BIGINT PRIMARY KEY,
             price_amount BIGINT NOT NULL,
             price_currency CHAR(3) NOT NULL
         )",
    )
    .await
    .unwrap();

    let yen = Money::new(1250, Currency::JPY);
    diesel::insert_into(prices::table)
        .values((
            prices::id.eq(1),
            yen.to_columns(prices::price_amount, prices::price_currency),
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    let euros = Money::new(-999, Currency::EUR);
    diesel::update(prices::table.find(1))
        .set(euros.to_columns(prices::price_amount, prices::price_currency))
        .execute(&mut conn)
        .await
        .unwrap();
    let row: PriceRow = prices::table
        .select(PriceRow::as_select())
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        row,
        PriceRow {
            id: 1,
            price: euros
        }
    );

    // A code the type would refuse is refused when read, not turned into a guess.
    conn.batch_execute("INSERT INTO prices VALUES (2, 5, 'eur')")
        .await
        .unwrap();
    let bad = prices::table
        .find(2)
        .select(PriceRow::as_select())
        .first(&mut conn)
        .await;
    assert!(bad.is_err(), "{bad:?}");
}
