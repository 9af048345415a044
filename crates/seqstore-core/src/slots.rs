//! Part uploads in flight per account: one account cannot hold every connection, buffer and
//! staging file of the server with uploads that run at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::CoreError;
use crate::ids::AccountId;

/// The part uploads each account is running.
#[derive(Debug, Default, Clone)]
pub(crate) struct UploadSlots(Arc<Mutex<HashMap<AccountId, usize>>>);

/// One running part upload; its slot frees when this drops (the upload ended either way).
#[derive(Debug)]
pub(crate) struct Slot {
    slots: UploadSlots,
    account_id: AccountId,
}

impl UploadSlots {
    /// A slot for `account_id`, or [`CoreError::Unavailable`] (`ThrottlingException`, which
    /// clients retry with back-off) when it already runs `max` part uploads.
    pub(crate) fn take(&self, account_id: &AccountId, max: usize) -> Result<Slot, CoreError> {
        let mut running = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = running.entry(account_id.clone()).or_default();
        if *n >= max {
            return Err(CoreError::Unavailable(format!(
                "account {account_id} already has {max} part uploads in progress; retry when one \
                 has finished"
            )));
        }
        *n += 1;
        Ok(Slot {
            slots: self.clone(),
            account_id: account_id.clone(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = self.slots.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = running.get_mut(&self.account_id) {
            *n -= 1;
            if *n == 0 {
                running.remove(&self.account_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_gets_at_most_max_slots_and_they_come_back() {
        let slots = UploadSlots::default();
        let (a, b) = (
            AccountId::from("111122223333"),
            AccountId::from("444455556666"),
        );
        let first = slots.take(&a, 2).unwrap();
        let _second = slots.take(&a, 2).unwrap();
        assert!(matches!(slots.take(&a, 2), Err(CoreError::Unavailable(_))));
        let _other = slots.take(&b, 2).unwrap();
        drop(first);
        let _again = slots.take(&a, 2).unwrap();
    }
}
