//! Funding the subsidies pool from the wallet (`subsidies::add_coin`,
//! open to anyone). What the pool pays and when is the contract's and the
//! coordinator's business (`process_subsidies`).

use floe_chain::ExecutedTx;

use crate::client::{Client, ensure_success};
use crate::error::{ClientError, Result};

impl Client {
    /// Adds `amount` FROST of the wallet's WAL to the subsidies pool.
    pub async fn fund_subsidies(&self, amount: u64) -> Result<ExecutedTx> {
        if amount == 0 {
            return Err(ClientError::Invalid(
                "funding the subsidies pool needs a positive amount".into(),
            ));
        }
        let key = self.wallet()?;
        let gov = self.floe.governance_ids().await?;
        let _guard = self.tx_guard().await;
        let coin = self.wal_coin_for(amount).await?;
        let tx = self.floe.fund_subsidies(key, &gov, amount, coin).await?;
        ensure_success(&tx)?;
        Ok(tx)
    }
}
