//! BODs: any bytes through the hardened XML reader and the noun models.
#![no_main]

use infor_ion_client::bod::{Bod, PurchaseOrder, SupplierInvoice, SupplierPartyMaster};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Bod::<SupplierPartyMaster>::from_slice(data);
    let _ = Bod::<PurchaseOrder>::from_slice(data);
    let _ = Bod::<SupplierInvoice>::from_slice(data);
});
