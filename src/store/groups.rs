//! `caresoft_groups` (the mirror of CareSoft's group list, per domain) and its history `group_changes`, and
//! the group listing the API serves: every group CareSoft lists, with or without agents, and every group
//! current agents name, each with its channel × status table.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{caresoft_group, group_change};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder,
};

use super::agents::{GroupCounts, status_counts};
use super::bulk::insert_all;
use crate::caresoft::Group;

/// What a sync of one domain's group list changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupSync {
    pub added: usize,
    pub renamed: usize,
    pub removed: usize,
    pub returned: usize,
}

impl GroupSync {
    /// Whether anything changed.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Brings the mirror of `domain`'s groups in line with CareSoft's `fetched` list, recording every rename,
/// removal and return in `group_changes` with run `run_id`. Groups are never deleted.
pub async fn sync(
    db: &impl ConnectionTrait,
    domain: &str,
    fetched: &[Group],
    run_id: i64,
    now: DateTime<Utc>,
) -> Result<GroupSync, DbErr> {
    let stored: HashMap<i64, caresoft_group::Model> = caresoft_group::Entity::find()
        .filter(caresoft_group::Column::Domain.eq(domain))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.group_id, row))
        .collect();
    let mut counts = GroupSync::default();
    let mut changes = Vec::new();
    let mut change = |key: i64, field: &str, old: Option<String>, new: Option<String>| {
        changes.push(group_change::ActiveModel {
            id: NotSet,
            group_key: Set(key),
            field: Set(field.to_string()),
            old_value: Set(old),
            new_value: Set(new),
            changed_at: Set(now),
            sync_run_id: Set(Some(run_id)),
        });
    };
    let mut seen = HashSet::with_capacity(fetched.len());
    let mut added = Vec::new();
    for group in fetched {
        seen.insert(group.id);
        let Some(old) = stored.get(&group.id) else {
            added.push(caresoft_group::ActiveModel {
                id: NotSet,
                domain: Set(domain.to_string()),
                group_id: Set(group.id),
                name: Set(group.name.clone()),
                created_at: Set(group.created_at),
                first_seen_at: Set(now),
                last_changed_at: Set(now),
                removed_at: Set(None),
            });
            continue;
        };
        let returning = old.removed_at.is_some();
        let renamed = old.name != group.name;
        if !returning && !renamed && old.created_at == group.created_at {
            continue;
        }
        if returning {
            counts.returned += 1;
            change(
                old.id,
                "presence",
                Some("removed".into()),
                Some("current".into()),
            );
        }
        if renamed {
            counts.renamed += 1;
            change(old.id, "name", old.name.clone(), group.name.clone());
        }
        let mut row = old.clone().into_active_model();
        row.name = Set(group.name.clone());
        row.created_at = Set(group.created_at);
        row.removed_at = Set(None);
        if returning || renamed {
            row.last_changed_at = Set(now);
        }
        caresoft_group::Entity::update(row).exec(db).await?;
    }
    for old in stored.values() {
        if old.removed_at.is_some() || seen.contains(&old.group_id) {
            continue;
        }
        counts.removed += 1;
        change(
            old.id,
            "presence",
            Some("current".into()),
            Some("removed".into()),
        );
        let mut row = old.clone().into_active_model();
        row.removed_at = Set(Some(now));
        row.last_changed_at = Set(now);
        caresoft_group::Entity::update(row).exec(db).await?;
    }
    // Read in the same transaction under the write lock: nothing can have inserted these meanwhile.
    counts.added = added.len();
    insert_all(db, added).await?;
    insert_all(db, changes).await?;
    Ok(counts)
}

/// The mirrored groups of `domain` (or of every domain) that CareSoft currently lists.
pub async fn current(
    db: &impl ConnectionTrait,
    domain: Option<&str>,
) -> Result<Vec<caresoft_group::Model>, DbErr> {
    let mut query =
        caresoft_group::Entity::find().filter(caresoft_group::Column::RemovedAt.is_null());
    if let Some(domain) = domain {
        query = query.filter(caresoft_group::Column::Domain.eq(domain));
    }
    query
        .order_by_asc(caresoft_group::Column::Domain)
        .order_by_asc(caresoft_group::Column::GroupId)
        .all(db)
        .await
}

/// Every group of `domain` (or of every domain), by domain then group id: those CareSoft lists, with no
/// current agent too (counts of zero), and those current agents name. A listed group carries CareSoft's
/// name from its group list, which a rename reaches before any agent shows it.
pub async fn listing(
    db: &impl ConnectionTrait,
    domain: Option<&str>,
) -> Result<Vec<GroupCounts>, DbErr> {
    let mut groups: BTreeMap<(String, Option<i64>), GroupCounts> = status_counts(db, None, domain)
        .await?
        .into_iter()
        .map(|group| ((group.domain.clone(), group.group_id), group))
        .collect();
    for listed in current(db, domain).await? {
        let entry = groups
            .entry((listed.domain.clone(), Some(listed.group_id)))
            .or_insert_with(|| GroupCounts {
                domain: listed.domain.clone(),
                group_id: Some(listed.group_id),
                group_name: None,
                agents: 0,
                counts: Default::default(),
            });
        if listed.name.is_some() {
            entry.group_name = listed.name;
        }
    }
    Ok(groups.into_values().collect())
}
