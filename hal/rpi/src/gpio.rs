//! Front-panel GPIO through rppal.
//!
//! Pins are BCM numbers. The bypass relay's coil is *energised to release* the bypass: when the
//! daemon dies or the box loses power the coil drops and the lines pass straight to the PBX.
//! On drop, rppal returns every pin to its previous mode, which de-energises the coil too.

use rppal::gpio::{Gpio as RppalGpio, InputPin, OutputPin};
use yingda_hal::{Error, ErrorKind, Gpio, Led, LedState, Result};

/// Highest BCM GPIO number on any Raspberry Pi.
const MAX_BCM_PIN: u8 = 53;

/// One output pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputConfig {
    /// BCM GPIO number.
    pub pin: u8,
    /// The output is active (LED lit, relay coil energised) when the pin is high.
    pub active_high: bool,
}

/// One input pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputConfig {
    /// BCM GPIO number.
    pub pin: u8,
    /// The input reads as pressed when the pin is low (a button to ground).
    pub active_low: bool,
    /// Enable the SoC's internal pull-up resistor.
    pub pull_up: bool,
}

/// Which pins drive the front panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpioConfig {
    /// Run LED.
    pub run_led: OutputConfig,
    /// Alarm LED.
    pub alarm_led: OutputConfig,
    /// Call LED.
    pub call_led: OutputConfig,
    /// Bypass relay coil; energised = bypass released (box in line).
    pub bypass_relay: OutputConfig,
    /// Front button.
    pub button: InputConfig,
}

impl Default for GpioConfig {
    /// The Yingda front-panel board: LEDs on 17/27/22 active high, relay driver on 23 active
    /// high, button on 24 to ground with the internal pull-up.
    fn default() -> Self {
        let out = |pin| OutputConfig {
            pin,
            active_high: true,
        };
        Self {
            run_led: out(17),
            alarm_led: out(27),
            call_led: out(22),
            bypass_relay: out(23),
            button: InputConfig {
                pin: 24,
                active_low: true,
                pull_up: true,
            },
        }
    }
}

impl GpioConfig {
    /// Reject pins that do not exist or are used twice.
    pub fn validate(&self) -> Result<()> {
        let pins = [
            ("run LED", self.run_led.pin),
            ("alarm LED", self.alarm_led.pin),
            ("call LED", self.call_led.pin),
            ("bypass relay", self.bypass_relay.pin),
            ("button", self.button.pin),
        ];
        for (i, (name, pin)) in pins.iter().enumerate() {
            if *pin > MAX_BCM_PIN {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    format!("gpio {name}: pin {pin} is not a BCM GPIO (0..={MAX_BCM_PIN})"),
                ));
            }
            if let Some((other, _)) = pins[..i].iter().find(|(_, p)| p == pin) {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    format!("gpio {name}: pin {pin} is already used by the {other}"),
                ));
            }
        }
        Ok(())
    }
}

/// Map an rppal error to a HAL error.
pub(crate) fn map_error(context: &str, e: rppal::gpio::Error) -> Error {
    use rppal::gpio::Error as E;
    let (kind, why) = match &e {
        E::UnknownModel => (
            ErrorKind::Unsupported,
            "not a Raspberry Pi (model not recognised)",
        ),
        E::PinUsed(_) => (ErrorKind::Busy, "pin in use"),
        E::PinNotAvailable(_) => (ErrorKind::NotFound, "pin not available on this board"),
        E::PermissionDenied(_) => (ErrorKind::PermissionDenied, "no access to the GPIO device"),
        E::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
            (ErrorKind::NotFound, "GPIO device missing")
        }
        E::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
            (ErrorKind::PermissionDenied, "no access to the GPIO device")
        }
        E::Io(_) | E::ThreadPanic => (ErrorKind::Io, "GPIO failure"),
    };
    Error::new(kind, format!("{context}: {why}")).with_source(e)
}

#[derive(Debug)]
struct Output {
    pin: OutputPin,
    active_high: bool,
}

impl Output {
    fn set(&mut self, active: bool) {
        if active == self.active_high {
            self.pin.set_high();
        } else {
            self.pin.set_low();
        }
    }
}

/// The front panel on Raspberry Pi GPIO.
#[derive(Debug)]
pub struct RpiGpio {
    run: Output,
    alarm: Output,
    call: Output,
    relay: Output,
    button: InputPin,
    button_active_low: bool,
}

impl RpiGpio {
    /// Claim the pins in `config`: LEDs dark, relay coil off (bypass engaged), button input.
    pub fn open(config: &GpioConfig) -> Result<Self> {
        config.validate()?;
        let gpio = RppalGpio::new().map_err(|e| map_error("open GPIO", e))?;
        let output = |name: &str, c: OutputConfig| -> Result<Output> {
            let pin = gpio
                .get(c.pin)
                .map_err(|e| map_error(&format!("gpio {name} (pin {})", c.pin), e))?;
            // Start inactive so nothing flickers and the relay stays in bypass.
            let pin = if c.active_high {
                pin.into_output_low()
            } else {
                pin.into_output_high()
            };
            Ok(Output {
                pin,
                active_high: c.active_high,
            })
        };
        let b = config.button;
        let button = gpio
            .get(b.pin)
            .map_err(|e| map_error(&format!("gpio button (pin {})", b.pin), e))?;
        let button = if b.pull_up {
            button.into_input_pullup()
        } else {
            button.into_input()
        };
        Ok(Self {
            run: output("run LED", config.run_led)?,
            alarm: output("alarm LED", config.alarm_led)?,
            call: output("call LED", config.call_led)?,
            relay: output("bypass relay", config.bypass_relay)?,
            button,
            button_active_low: b.active_low,
        })
    }
}

impl Gpio for RpiGpio {
    fn set_led(&mut self, led: Led, state: LedState) -> Result<()> {
        let out = match led {
            Led::Run => &mut self.run,
            Led::Alarm => &mut self.alarm,
            Led::Call => &mut self.call,
        };
        out.set(state == LedState::On);
        Ok(())
    }

    fn set_bypass(&mut self, engaged: bool) -> Result<()> {
        // Energised coil releases the bypass.
        self.relay.set(!engaged);
        Ok(())
    }

    fn button_pressed(&mut self) -> Result<bool> {
        Ok(self.button.is_low() == self.button_active_low)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_gpio_off_a_pi_is_a_clear_error() {
        // This machine is no Raspberry Pi: rppal cannot identify the SoC or find the GPIO
        // device. On a Pi this test is meaningless, so it only runs where the model is unknown.
        let is_pi = std::fs::read_to_string("/proc/device-tree/model")
            .is_ok_and(|m| m.contains("Raspberry Pi"));
        if is_pi {
            return;
        }
        let e = RpiGpio::open(&GpioConfig::default()).unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::Unsupported | ErrorKind::NotFound),
            "{e:?}"
        );
        assert!(e.to_string().starts_with("open GPIO"), "{e}");
    }

    #[test]
    fn config_validation() {
        GpioConfig::default().validate().unwrap();
        let mut c = GpioConfig::default();
        c.call_led.pin = c.run_led.pin;
        let e = c.validate().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        assert!(e.to_string().contains("already used by the run LED"), "{e}");
        let mut c = GpioConfig::default();
        c.button.pin = 60;
        let e = RpiGpio::open(&c).unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::InvalidConfig,
            "config is checked before the hardware"
        );
    }

    #[test]
    fn rppal_errors_map_to_kinds() {
        use rppal::gpio::Error as E;
        let cases = [
            (E::UnknownModel, ErrorKind::Unsupported),
            (E::PinUsed(4), ErrorKind::Busy),
            (E::PinNotAvailable(99), ErrorKind::NotFound),
            (
                E::PermissionDenied("/dev/gpiomem".into()),
                ErrorKind::PermissionDenied,
            ),
            (
                E::Io(std::io::Error::from(std::io::ErrorKind::NotFound)),
                ErrorKind::NotFound,
            ),
            (E::Io(std::io::Error::other("x")), ErrorKind::Io),
            (E::ThreadPanic, ErrorKind::Io),
        ];
        for (e, kind) in cases {
            assert_eq!(map_error("ctx", e).kind(), kind);
        }
    }
}
