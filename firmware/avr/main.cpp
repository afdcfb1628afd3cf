// piPDU firmware for the Arduino Mega 2560: the board glue around pipdu::Core.
//
//   relays   outlet 1..8 -> D22..D29 (PA0..PA7), outlet 9..16 -> D30..D37 (PC7..PC0)
//   sensors  outlet n -> A(n-1): A0..A7 (ADC0..7), A8..A15 (ADC8..15)
//   I2C      SDA D20, SCL D21, slave address PIPDU_I2C_ADDRESS (default 0x42)
//
// Relay outputs get a defined level in .init3, before the C runtime clears RAM: off after a
// power-on, the state before the reset after a watchdog or external reset.
#include <Arduino.h>
#include <Wire.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/wdt.h>
#include <avr/eeprom.h>

#include "../src/core.h"
#include "../src/register_map.h"

#ifndef PIPDU_I2C_ADDRESS
#define PIPDU_I2C_ADDRESS PIPDU_DEFAULT_I2C_ADDRESS
#endif
// 1: a relay is energised by a HIGH pin (transistor / ULN2803 drivers). 0: by a LOW pin (opto modules).
#ifndef PIPDU_RELAY_ACTIVE_HIGH
#define PIPDU_RELAY_ACTIVE_HIGH 1
#endif

static const uint16_t kFitted = PIPDU_OUTLETS >= 16 ? 0xFFFF : (uint16_t)((1U << PIPDU_OUTLETS) - 1);

// Survive a watchdog or external reset: not touched by the C runtime start-up.
static pipdu::RetainedState retained __attribute__((section(".noinit")));
static uint8_t resetFlags __attribute__((section(".noinit")));

static inline uint8_t reverseBits(uint8_t b) {
  b = (uint8_t)((b & 0xF0) >> 4 | (b & 0x0F) << 4);
  b = (uint8_t)((b & 0xCC) >> 2 | (b & 0x33) << 2);
  return (uint8_t)((b & 0xAA) >> 1 | (b & 0x55) << 1);
}

static inline void writeRelayPorts(uint16_t energised) {
  uint16_t level = PIPDU_RELAY_ACTIVE_HIGH ? energised : (uint16_t)~energised;
  // Unfitted outlets' pins stay low outputs whatever the polarity.
  level &= kFitted;
  PORTA = (uint8_t)level;
  PORTC = reverseBits((uint8_t)(level >> 8));
}

// First code after reset (stack ready, RAM not yet initialised): reset cause, watchdog off
// (it stays armed after a watchdog reset), relays to a defined level.
extern "C" void pipduEarlyInit(void) __attribute__((naked, used, section(".init3")));
void pipduEarlyInit(void) {
  resetFlags = MCUSR;
  MCUSR = 0;
  wdt_disable();
  writeRelayPorts(pipdu::earlyRelayMask(pipdu::resetCauseFromMcusr(resetFlags), retained, kFitted));
  DDRA = (uint8_t)kFitted;
  DDRC = reverseBits((uint8_t)(kFitted >> 8));
}

class AvrHal : public pipdu::Hal {
 public:
  uint32_t millis() override { return ::millis(); }
  void writeRelays(uint16_t energised) override { writeRelayPorts(energised); }
  bool eepromReady() override { return eeprom_is_ready(); }
  uint8_t eepromRead(uint16_t a) override { return eeprom_read_byte((const uint8_t*)a); }
  void eepromWrite(uint16_t a, uint8_t v) override { eeprom_write_byte((uint8_t*)a, v); }
};

static AvrHal hal;
static pipdu::Core core(hal, retained, PIPDU_OUTLETS, PIPDU_I2C_ADDRESS);
static volatile uint8_t adcChannel;

static void onReceive(int count) {
  uint8_t buf[pipdu::kWireBuffer];
  uint8_t n = 0;
  while (Wire.available() && n < sizeof buf) buf[n++] = (uint8_t)Wire.read();
  (void)count;
  core.i2cReceive(buf, n);
}

static void onRequest() {
  uint8_t buf[PIPDU_MAX_READ + 1];
  const uint8_t n = core.i2cRequest(buf);
  if (n) Wire.write(buf, n);
}

static void selectAdcChannel(uint8_t ch) {
  ADMUX = (uint8_t)(_BV(REFS0) | (ch & 0x07));  // AVcc reference
  ADCSRB = (uint8_t)((ADCSRB & (uint8_t)~_BV(MUX5)) | (ch & 0x08 ? _BV(MUX5) : 0));
}

// 9600 conversions/s: Timer1 CTC at 16 MHz / 1667, compare B triggers the ADC (prescaler 64,
// 250 kHz ADC clock, 54 µs per conversion). The ISR selects the next channel before it clears
// the trigger flag, as the datasheet requires for auto-triggered conversions.
static void startAdc() {
  DIDR0 = 0xFF;
  DIDR2 = 0xFF;
  adcChannel = 0;
  selectAdcChannel(0);
  ADCSRB = (uint8_t)((ADCSRB & (uint8_t)~0x07) | _BV(ADTS2) | _BV(ADTS0));  // Timer1 compare B
  ADCSRA = (uint8_t)(_BV(ADEN) | _BV(ADATE) | _BV(ADIE) | _BV(ADIF) | _BV(ADPS2) | _BV(ADPS1));
  TCCR1A = 0;
  TCCR1B = 0;
  TCNT1 = 0;
  OCR1A = F_CPU / pipdu::kSampleRateHz - 1;
  OCR1B = OCR1A;
  TIFR1 = _BV(OCF1B);
  TCCR1B = (uint8_t)(_BV(WGM12) | _BV(CS10));
}

ISR(ADC_vect) {
  const uint16_t value = ADC;
  const uint8_t ch = adcChannel;
  const uint8_t next = (uint8_t)((ch + 1) & 0x0F);
  selectAdcChannel(next);
  adcChannel = next;
  TIFR1 = _BV(OCF1B);
  core.sampler().add(ch, value);
}

void setup() {
  core.begin(pipdu::resetCauseFromMcusr(resetFlags));
  Wire.begin((uint8_t)PIPDU_I2C_ADDRESS);
  Wire.onReceive(onReceive);
  Wire.onRequest(onRequest);
  startAdc();
  wdt_enable(WDTO_1S);
}

void loop() {
  wdt_reset();
  core.poll();
}
