//! Mirror keys of agents: how agents of several CareSoft domains share one `agents` table without any of
//! them ever overwriting another.
//!
//! CareSoft documents nothing about its ids across domains. Every sample seen (one tenant's agents spread
//! over 92,451,921–115,192,157, the documentation's example agent 142,928,097 and group 12,153) looks like
//! one sequence for the whole platform, so two domains should never hand out the same agent id, but that
//! is an inference, not a guarantee. So the key is CareSoft's id whenever no other domain holds it (always,
//! if the inference is right, and in every database of a single domain), and otherwise the id offset into
//! a block of its own: `n · 2^40 + id` for the smallest free `n`. CareSoft's ids are far below 2^40
//! (1.1 · 10^12). A key, once given, never changes: the domain and CareSoft id stay on the row
//! (`agents.caresoft_id`, unique per domain), and the agent is found by them at every later sync.

use std::collections::{HashMap, HashSet};

use entity::agent;

/// The size of one block of keys.
pub const BLOCK: i64 = 1 << 40;

/// Gives each of `incoming` (fresh from [`super::diff::rows_of`], where `id` is CareSoft's) its mirror
/// key: the key its domain already gave that CareSoft id (`known`), else the first free one of
/// `caresoft_id + n · BLOCK`, avoiding `taken` (every key of the other domains). Returns how many agents
/// got an offset key.
pub fn assign(
    incoming: &mut [agent::Model],
    known: &HashMap<i64, i64>,
    taken: &mut HashSet<i64>,
) -> usize {
    let mut offset = 0;
    for row in incoming {
        let caresoft_id = row.caresoft_id;
        if let Some(&key) = known.get(&caresoft_id) {
            row.id = key;
            continue;
        }
        let mut key = caresoft_id;
        let mut n: i64 = 0;
        while taken.contains(&key) {
            n += 1;
            key = match n
                .checked_mul(BLOCK)
                .and_then(|o| o.checked_add(caresoft_id))
            {
                Some(key) => key,
                // Unreachable with ids below 2^40 and fewer than 8 million clashing domains; wrapping into
                // the negative keys still never meets a CareSoft id.
                None => -caresoft_id.saturating_abs() - n,
            };
        }
        if n > 0 {
            offset += 1;
        }
        taken.insert(key);
        row.id = key;
    }
    offset
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::caresoft::Agent;
    use crate::sync::diff::rows_of;

    fn incoming(ids: &[i64]) -> Vec<agent::Model> {
        let agents: Vec<Agent> = ids
            .iter()
            .map(|&id| Agent {
                id,
                username: None,
                email: None,
                phone_no: None,
                agent_id: None,
                created_at: None,
                updated_at: None,
                group_id: None,
                group_name: None,
                role_id: None,
                login_status: None,
                call_status: None,
                chat_status: None,
                ticket_status: None,
            })
            .collect();
        rows_of(&agents, "acme-hn", Utc::now())
    }

    #[test]
    fn a_free_caresoft_id_is_its_own_key() {
        let mut rows = incoming(&[7, 9]);
        let offset = assign(&mut rows, &HashMap::new(), &mut HashSet::from([1, 2]));
        assert_eq!(offset, 0);
        assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), [7, 9]);
        assert_eq!(
            rows.iter().map(|r| r.caresoft_id).collect::<Vec<_>>(),
            [7, 9]
        );
    }

    #[test]
    fn an_id_another_domain_holds_gets_the_next_free_block() {
        let mut rows = incoming(&[7, 8]);
        let mut taken = HashSet::from([7, BLOCK + 7, 8]);
        let offset = assign(&mut rows, &HashMap::new(), &mut taken);
        assert_eq!(offset, 2);
        assert_eq!(
            rows.iter()
                .map(|r| (r.id, r.caresoft_id))
                .collect::<Vec<_>>(),
            [(2 * BLOCK + 7, 7), (BLOCK + 8, 8)]
        );
        assert!(taken.contains(&(2 * BLOCK + 7)), "given keys are taken");
    }

    #[test]
    fn a_known_agent_keeps_its_key_whatever_is_taken() {
        let mut rows = incoming(&[7]);
        let known = HashMap::from([(7, BLOCK + 7)]);
        assign(&mut rows, &known, &mut HashSet::from([7]));
        assert_eq!((rows[0].id, rows[0].caresoft_id), (BLOCK + 7, 7));
    }
}
