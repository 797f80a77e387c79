// The one error the GPT-2 conversion throws: a directory that is not a GPT-2 model resnorm can hold
// (a bad config.json, a missing or misshapen tensor), or a run whose design GPT-2's format cannot
// express. Its message names the file or the field and says what to do; the CLI prints it as is.

export class Gpt2FormatError extends Error {
  override name = 'Gpt2FormatError';
}
