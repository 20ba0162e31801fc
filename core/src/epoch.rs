//! Epoch arithmetic (Walrus's `system_state_inner.move` and `staking_inner.move`).
//!
//! Walrus epochs are not on a fixed clock: epoch 0 lasts until
//! `first_epoch_start`, and every later epoch starts when a quorum reports
//! its shard sync done, then lasts at least `epoch_duration`. So there are two
//! kinds of helpers: an ideal schedule from the genesis parameters
//! ([`EpochSchedule`]), and estimates anchored at the current epoch's actual
//! start ([`estimate_epoch_start`]), which is what clients should show.
//! Reservation checks mirror `system_state_inner.move` with typed errors.
//! All arithmetic is checked; nothing wraps or panics.

/// Contract limit on `max_epochs_ahead` (Move `MAX_MAX_EPOCHS_AHEAD`).
pub const MAX_MAX_EPOCHS_AHEAD: u32 = 1000;

/// Why an epoch computation or reservation is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EpochError {
    /// Zero epochs requested (Move `EInvalidEpochsAhead`).
    #[error("a reservation must cover at least one epoch")]
    ZeroEpochs,
    /// End too far ahead (Move `EInvalidEpochsAhead`).
    #[error("end epoch is {epochs_ahead} epochs ahead; the maximum is {max_epochs_ahead}")]
    TooFarAhead {
        /// Requested distance from the current epoch.
        epochs_ahead: u64,
        /// Allowed maximum.
        max_epochs_ahead: u32,
    },
    /// `end <= start` (Move `EInvalidEpochsAhead`).
    #[error("epoch range [{start}, {end}) is empty")]
    EmptyRange {
        /// Start (after clamping to the current epoch).
        start: u32,
        /// End.
        end: u32,
    },
    /// The blob or resource already expired.
    #[error("end epoch {end_epoch} is not after the current epoch {current_epoch}")]
    Expired {
        /// Its end epoch.
        end_epoch: u32,
        /// The current epoch.
        current_epoch: u32,
    },
    /// `max_epochs_ahead` above the contract limit.
    #[error("max_epochs_ahead {0} exceeds the contract limit {MAX_MAX_EPOCHS_AHEAD}")]
    MaxEpochsAheadTooLarge(u32),
    /// A time or epoch number does not fit its type.
    #[error("epoch arithmetic overflow")]
    Overflow,
    /// Epoch 0 has no recorded start time.
    #[error("epoch 0 starts at deployment; its start time is not part of the schedule")]
    EpochZeroStart,
    /// Zero epoch duration.
    #[error("epoch duration must be positive")]
    ZeroDuration,
}

/// The ideal schedule from the staking parameters (no sync drift).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochSchedule {
    /// When epoch 1 may start (ms since the Unix epoch).
    pub first_epoch_start_ms: u64,
    /// Epoch length (ms).
    pub epoch_duration_ms: u64,
}

impl EpochSchedule {
    /// A schedule; rejects a zero duration.
    pub fn new(first_epoch_start_ms: u64, epoch_duration_ms: u64) -> Result<Self, EpochError> {
        if epoch_duration_ms == 0 {
            return Err(EpochError::ZeroDuration);
        }
        Ok(EpochSchedule {
            first_epoch_start_ms,
            epoch_duration_ms,
        })
    }

    /// Ideal start of `epoch` (>= 1): `first + (epoch - 1) x duration`.
    pub fn epoch_start_ms(&self, epoch: u32) -> Result<u64, EpochError> {
        let offset = u64::from(epoch.checked_sub(1).ok_or(EpochError::EpochZeroStart)?);
        offset
            .checked_mul(self.epoch_duration_ms)
            .and_then(|d| d.checked_add(self.first_epoch_start_ms))
            .ok_or(EpochError::Overflow)
    }

    /// Ideal end of `epoch` (exclusive) = start of the next one.
    pub fn epoch_end_ms(&self, epoch: u32) -> Result<u64, EpochError> {
        self.epoch_start_ms(epoch.checked_add(1).ok_or(EpochError::Overflow)?)
    }

    /// The epoch the ideal schedule is in at `time_ms`.
    pub fn epoch_at(&self, time_ms: u64) -> Result<u32, EpochError> {
        let Some(elapsed) = time_ms.checked_sub(self.first_epoch_start_ms) else {
            return Ok(0);
        };
        let epochs = elapsed / self.epoch_duration_ms.max(1) + 1;
        u32::try_from(epochs).map_err(|_| EpochError::Overflow)
    }
}

/// Estimated start of `target_epoch` given the current epoch and its actual
/// start (from `EpochState::EpochChangeDone`/`NextParamsSelected`): each
/// later epoch is assumed to last exactly `epoch_duration_ms`. Earlier
/// epochs are estimated backwards the same way.
pub fn estimate_epoch_start(
    current_epoch: u32,
    current_epoch_start_ms: u64,
    epoch_duration_ms: u64,
    target_epoch: u32,
) -> Result<u64, EpochError> {
    if target_epoch >= current_epoch {
        u64::from(target_epoch - current_epoch)
            .checked_mul(epoch_duration_ms)
            .and_then(|d| current_epoch_start_ms.checked_add(d))
            .ok_or(EpochError::Overflow)
    } else {
        u64::from(current_epoch - target_epoch)
            .checked_mul(epoch_duration_ms)
            .and_then(|d| current_epoch_start_ms.checked_sub(d))
            .ok_or(EpochError::Overflow)
    }
}

/// Estimated expiry time of something stored until `end_epoch` (exclusive):
/// the estimated start of `end_epoch`.
pub fn estimate_expiry_ms(
    current_epoch: u32,
    current_epoch_start_ms: u64,
    epoch_duration_ms: u64,
    end_epoch: u32,
) -> Result<u64, EpochError> {
    estimate_epoch_start(
        current_epoch,
        current_epoch_start_ms,
        epoch_duration_ms,
        end_epoch,
    )
}

/// Checks `max_epochs_ahead` against the contract limit.
pub fn check_max_epochs_ahead(max_epochs_ahead: u32) -> Result<(), EpochError> {
    if max_epochs_ahead > MAX_MAX_EPOCHS_AHEAD {
        return Err(EpochError::MaxEpochsAheadTooLarge(max_epochs_ahead));
    }
    Ok(())
}

/// `reserve_space`: `0 < epochs_ahead <= max_epochs_ahead`; returns the
/// storage interval `[current, current + epochs_ahead)`.
pub fn reservation_epochs(
    current_epoch: u32,
    epochs_ahead: u32,
    max_epochs_ahead: u32,
) -> Result<(u32, u32), EpochError> {
    if epochs_ahead == 0 {
        return Err(EpochError::ZeroEpochs);
    }
    if epochs_ahead > max_epochs_ahead {
        return Err(EpochError::TooFarAhead {
            epochs_ahead: u64::from(epochs_ahead),
            max_epochs_ahead,
        });
    }
    let end = current_epoch
        .checked_add(epochs_ahead)
        .ok_or(EpochError::Overflow)?;
    Ok((current_epoch, end))
}

/// `reserve_space_for_epochs`: the start is clamped up to the current
/// epoch, the range must be non-empty and end at most `max_epochs_ahead`
/// after the current epoch. Returns the effective `(start, end)`.
pub fn reservation_range(
    current_epoch: u32,
    start_epoch: u32,
    end_epoch: u32,
    max_epochs_ahead: u32,
) -> Result<(u32, u32), EpochError> {
    let start = start_epoch.max(current_epoch);
    if end_epoch <= start {
        return Err(EpochError::EmptyRange {
            start,
            end: end_epoch,
        });
    }
    let ahead = end_epoch - current_epoch;
    if ahead > max_epochs_ahead {
        return Err(EpochError::TooFarAhead {
            epochs_ahead: u64::from(ahead),
            max_epochs_ahead,
        });
    }
    Ok((start, end_epoch))
}

/// `extend_blob`: the blob must be unexpired, the extension non-zero, and
/// the new end at most `max_epochs_ahead` after the current epoch. Returns
/// the new end epoch.
pub fn extension_end_epoch(
    current_epoch: u32,
    end_epoch: u32,
    extended_epochs: u32,
    max_epochs_ahead: u32,
) -> Result<u32, EpochError> {
    if end_epoch <= current_epoch {
        return Err(EpochError::Expired {
            end_epoch,
            current_epoch,
        });
    }
    if extended_epochs == 0 {
        return Err(EpochError::ZeroEpochs);
    }
    let new_end = u64::from(end_epoch) + u64::from(extended_epochs);
    let ahead = new_end - u64::from(current_epoch);
    if ahead > u64::from(max_epochs_ahead) {
        return Err(EpochError::TooFarAhead {
            epochs_ahead: ahead,
            max_epochs_ahead,
        });
    }
    u32::try_from(new_end).map_err(|_| EpochError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule() {
        let s = EpochSchedule::new(1_000, 100).unwrap();
        assert_eq!(s.epoch_start_ms(0), Err(EpochError::EpochZeroStart));
        assert_eq!(s.epoch_start_ms(1), Ok(1_000));
        assert_eq!(s.epoch_start_ms(3), Ok(1_200));
        assert_eq!(s.epoch_end_ms(0), Ok(1_000));
        assert_eq!(s.epoch_at(999), Ok(0));
        assert_eq!(s.epoch_at(1_000), Ok(1));
        assert_eq!(s.epoch_at(1_199), Ok(2));
        assert!(EpochSchedule::new(0, 0).is_err());
        let big = EpochSchedule::new(u64::MAX, u64::MAX).unwrap();
        assert_eq!(big.epoch_start_ms(u32::MAX), Err(EpochError::Overflow));
    }

    #[test]
    fn estimates() {
        assert_eq!(estimate_epoch_start(5, 10_000, 100, 7), Ok(10_200));
        assert_eq!(estimate_epoch_start(5, 10_000, 100, 3), Ok(9_800));
        assert_eq!(
            estimate_epoch_start(5, 100, 100, 3),
            Err(EpochError::Overflow)
        );
        assert_eq!(estimate_expiry_ms(5, 10_000, 100, 6), Ok(10_100));
    }

    #[test]
    fn reservations() {
        assert_eq!(reservation_epochs(10, 5, 53), Ok((10, 15)));
        assert_eq!(reservation_epochs(10, 0, 53), Err(EpochError::ZeroEpochs));
        assert!(matches!(
            reservation_epochs(10, 54, 53),
            Err(EpochError::TooFarAhead { .. })
        ));
        assert_eq!(reservation_epochs(10, 53, 53), Ok((10, 63)));
        assert_eq!(reservation_range(10, 3, 12, 53), Ok((10, 12)));
        assert!(matches!(
            reservation_range(10, 12, 12, 53),
            Err(EpochError::EmptyRange { .. })
        ));
        assert!(matches!(
            reservation_range(10, 11, 64, 53),
            Err(EpochError::TooFarAhead { .. })
        ));
        assert_eq!(extension_end_epoch(10, 12, 3, 53), Ok(15));
        assert!(matches!(
            extension_end_epoch(10, 10, 3, 53),
            Err(EpochError::Expired { .. })
        ));
        assert!(matches!(
            extension_end_epoch(10, 60, 4, 53),
            Err(EpochError::TooFarAhead { .. })
        ));
        assert_eq!(
            extension_end_epoch(10, 12, 0, 53),
            Err(EpochError::ZeroEpochs)
        );
        assert_eq!(
            check_max_epochs_ahead(1001),
            Err(EpochError::MaxEpochsAheadTooLarge(1001))
        );
    }
}
