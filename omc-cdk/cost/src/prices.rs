//! Price tables: on-demand prices of one region, as data (`omc-cdk/pricing/<region>.json`),
//! each figure with its unit, the page it comes from and the date it was checked.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::CostError;

/// The price tables built into omc-cdk, by region. Add a region by adding its file and a line.
const BUILT_IN: &[(&str, &str, &str)] = &[(
    "us-east-1",
    "omc-cdk/pricing/us-east-1.json",
    include_str!("../../pricing/us-east-1.json"),
)];

/// One price.
#[derive(Clone, Debug, PartialEq)]
pub struct Price {
    /// US dollars per unit.
    pub price: f64,
    /// What one unit is, such as `NAT gateway-hour`.
    pub unit: String,
    /// When the figure was recorded (YYYY-MM-DD).
    pub date: String,
    /// Where it comes from.
    pub source: String,
}

/// The prices of one region.
#[derive(Clone, Debug, PartialEq)]
pub struct PriceTable {
    /// The region, such as `us-east-1`.
    pub region: String,
    /// Always `USD`.
    pub currency: String,
    /// What the prices are (on-demand, Linux, no free tier ...).
    pub note: String,
    /// Prices by key, such as `nat_gateway.hour` or `rds.postgres.db.t3.micro.hour`.
    pub prices: BTreeMap<String, Price>,
    /// Where the table was read from.
    pub file: String,
}

impl PriceTable {
    /// The built-in table of a region; an error lists the regions there are.
    pub fn built_in(region: &str) -> Result<PriceTable, CostError> {
        let Some((_, file, text)) = BUILT_IN.iter().find(|(r, _, _)| *r == region) else {
            return Err(CostError::NoPriceTable {
                region: region.to_owned(),
                known: BUILT_IN.iter().map(|(r, _, _)| *r).collect(),
            });
        };
        PriceTable::parse(text, file)
    }

    /// A table from its JSON text; `file` names it in messages and reports.
    pub fn parse(text: &str, file: &str) -> Result<PriceTable, CostError> {
        let json: Json =
            serde_json::from_str(text).map_err(|source| CostError::PriceTableJson {
                file: file.to_owned(),
                source,
            })?;
        let text_of = |value: &Json, key: &'static str, what: &str| -> Result<String, CostError> {
            value
                .get(key)
                .and_then(Json::as_str)
                .map(str::to_owned)
                .ok_or_else(|| CostError::PriceTableField {
                    file: file.to_owned(),
                    entry: what.to_owned(),
                    key,
                })
        };
        let currency = text_of(&json, "currency", "the table")?;
        if currency != "USD" {
            return Err(CostError::Currency {
                file: file.to_owned(),
                currency,
            });
        }
        let mut prices = BTreeMap::new();
        let entries = json
            .get("prices")
            .and_then(Json::as_object)
            .ok_or_else(|| CostError::NoPrices {
                file: file.to_owned(),
            })?;
        for (key, entry) in entries {
            let price = entry
                .get("price")
                .and_then(Json::as_f64)
                .filter(|p| p.is_finite() && *p >= 0.0)
                .ok_or_else(|| CostError::BadPrice {
                    file: file.to_owned(),
                    key: key.clone(),
                    price: entry.get("price").unwrap_or(&Json::Null).to_string(),
                })?;
            prices.insert(
                key.clone(),
                Price {
                    price,
                    unit: text_of(entry, "unit", key)?,
                    date: text_of(entry, "date", key)?,
                    source: text_of(entry, "source", key)?,
                },
            );
        }
        Ok(PriceTable {
            region: text_of(&json, "region", "the table")?,
            currency,
            note: json
                .get("note")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned(),
            prices,
            file: file.to_owned(),
        })
    }

    /// The price of `key`.
    pub fn get(&self, key: &str) -> Option<&Price> {
        self.prices.get(key)
    }

    /// The oldest date among the figures.
    pub fn oldest_date(&self) -> &str {
        self.prices
            .values()
            .map(|p| p.date.as_str())
            .min()
            .unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::{CostError, PriceTable};

    #[test]
    fn the_built_in_table_parses_and_every_figure_has_a_source() {
        let table = PriceTable::built_in("us-east-1").expect("the us-east-1 table");
        assert_eq!(table.region, "us-east-1");
        assert!(table.prices.len() > 30);
        for (key, price) in &table.prices {
            assert!(price.source.starts_with("https://aws.amazon.com/"), "{key}");
            assert_eq!(price.date.len(), 10, "{key}");
            assert!(price.price > 0.0, "{key}");
        }
    }

    #[test]
    fn a_missing_region_is_a_clear_error() {
        let err = PriceTable::built_in("eu-west-1").expect_err("no such table");
        assert!(
            matches!(&err, CostError::NoPriceTable { region, .. } if region == "eu-west-1"),
            "{err:?}"
        );
        let err = err.to_string();
        assert!(err.contains("\"eu-west-1\""), "{err}");
        assert!(err.contains("us-east-1"), "{err}");
        assert!(err.contains("omc-cdk/pricing/eu-west-1.json"), "{err}");
    }

    #[test]
    fn bad_tables_are_refused() {
        assert!(PriceTable::parse("{}", "x.json").is_err());
        let negative = r#"{"region": "r", "currency": "USD", "prices": {"a": {"price": -1, "unit": "u", "date": "2026-01-01", "source": "s"}}}"#;
        assert!(
            PriceTable::parse(negative, "x.json")
                .is_err_and(|e| e.to_string().contains("a has the price -1"))
        );
    }
}
