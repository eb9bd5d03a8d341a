//! Local audio devices (headset or speaker/microphone on the box's audio jack).

use crate::{Result, FRAME_SAMPLES};

/// One 20 ms frame of linear 16-bit audio at 8 kHz.
pub type PcmFrame = [i16; FRAME_SAMPLES];

/// A local capture/playback device running at 8 kHz mono in 20 ms frames.
pub trait AudioDevice: Send {
    /// Device name for logs.
    fn name(&self) -> &str;
    /// Capture one frame; blocks until it is available.
    fn read_frame(&mut self, frame: &mut PcmFrame) -> Result<()>;
    /// Play one frame; blocks while the device buffer is full.
    fn write_frame(&mut self, frame: &PcmFrame) -> Result<()>;
}
