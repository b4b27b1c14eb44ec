//! `employees`: the enterprise's HR staff as imported from CSV or GraphQL, never deleted.

use sea_orm::entity::prelude::*;

use crate::vocabulary::EmployeeStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "employees")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub employee_code: String,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub department: Option<String>,
    pub status: EmployeeStatus,
    pub email_key: Option<String>,
    pub phone_key: Option<String>,
    pub removed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// A hash of the HR fields, to find unchanged rows cheaply; NULL on rows written before it existed.
    pub fingerprint: Option<i64>,
    /// Code, full name, email, phone and department folded for search (`crate::search`).
    pub search_text: String,
    /// The last word of the full name, folded: what suggestions look owners up by.
    pub given_name: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
