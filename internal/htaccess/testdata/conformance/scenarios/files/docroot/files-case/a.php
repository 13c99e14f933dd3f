MARKER:files-case-php
