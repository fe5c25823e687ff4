// A volume that cannot be set up or torn down: `reason` is the event reason (FailedMount...),
// `message` is what an operator reads (upstream's wording where there is one). Never contents.
export class VolumeError extends Error {
  override readonly name = 'VolumeError';
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

export const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
