import { IsString, Matches, MaxLength } from 'class-validator';
import { NAME_PATTERN, NAME_RULE, ROOM_PATTERN, ROOM_RULE } from './chat-rules.js';

/** A chat message event's data: `client.sendEvent('message', { text }, 'json')`. */
export class ChatMessageDto {
  @IsString()
  @MaxLength(500)
  @Matches(/\S/, { message: 'text must not be empty' })
  text!: string;
}

/** The join form (`POST /join`, urlencoded or JSON). */
export class JoinDto {
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_RULE })
  name!: string;

  @IsString()
  @Matches(ROOM_PATTERN, { message: ROOM_RULE })
  room!: string;
}
