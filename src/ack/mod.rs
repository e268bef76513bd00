//! X12 acknowledgments: the 997/999/TA1 we send back for X12 input, their control numbers, and
//! the 997/999/TA1 partners send us.
//!
//! * [`build`]: what to say (TA1 / AK9 / AK5 / AK3 / AK4 / IK3 / IK4 / IK5) from the reader's results.
//! * [`envelope`]: the reply interchange (sender and receiver swapped, partner's delimiters).
//! * [`control`]: ISA13 / GS06 control numbers per partner kept in the store.
//! * [`inbound`]: partners' acknowledgments parsed and recorded; rejections become [`inbound::AckEvent`]s.
//! * [`send`]: the pipeline's entry point: build, reserve numbers, write atomically, record.

pub mod build;
pub mod control;
pub mod envelope;
pub mod inbound;
pub mod send;

pub use build::{collect, plan, AckPlan, GroupAck, ReceivedInterchange, SetAck, Ta1};
pub use control::{next_control_number, reserve, Reserved};
pub use envelope::{render, AckOptions};
pub use inbound::{record_inbound, AckEvent, InboundAck};
pub use send::{
    acknowledge_file, acks_for_entry, acks_of, on_received_collected, on_received_file, retry_pending, AckCollector,
    AckFileRecord, ReceivedFile, SentAck,
};
