import { useEffect, useState } from 'preact/hooks';
import { toString as qrToSvg } from 'qrcode';

/** A QR code drawn here in the browser (no service sees the link), as an SVG data URL. */
export function QrCode({ text, label }: { text: string; label: string }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    qrToSvg(text, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' }).then(
      (svg) => current && setSrc(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`),
      () => current && setSrc(null),
    );
    return () => {
      current = false;
    };
  }, [text]);
  return src ? <img class="qr" src={src} alt={label} width={176} height={176} /> : <div class="qr qr--empty" />;
}
