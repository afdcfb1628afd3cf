// sysfs GPIO numbers. Before Raspberry Pi OS Bookworm (kernel 6.6) the SoC's GPIO chip started at 0, so
// sysfs gpio17 was BCM 17; since then it starts at 512 (gpiochip512 on a Pi 4, gpiochip571 on a Pi 5) and
// BCM 17 is sysfs gpio529. Libraries that write raw BCM numbers (rpi-gpio, onoff) break there.
import fs from "node:fs";
import path from "node:path";

/** Labels of the chip that carries the 40-pin header's GPIOs, by Pi model. */
const HEADER_CHIP_LABELS = [/^pinctrl-bcm2835$/, /^pinctrl-bcm2711$/, /^pinctrl-rp1$/];

export function sysfsNumber(bcm: number, base: number): number {
  return base + bcm;
}

/** The sysfs base of the header's GPIO chip, read from <root>/gpiochipN/{base,label}; null when not found. */
export function findGpioBase(root = "/sys/class/gpio"): number | null {
  let entries: string[];
  try {
    entries = fs.readdirSync(root).filter((e) => /^gpiochip\d+$/.test(e));
  } catch {
    return null;
  }
  const chips = entries.map((e) => {
    const read = (f: string): string => {
      try {
        return fs.readFileSync(path.join(root, e, f), "utf8").trim();
      } catch {
        return "";
      }
    };
    return { base: Number(read("base")), label: read("label") };
  });
  for (const pattern of HEADER_CHIP_LABELS) {
    const chip = chips.find((c) => pattern.test(c.label) && Number.isInteger(c.base));
    if (chip) return chip.base;
  }
  return null;
}
