from gan_lightning.commands.cli import main

main()
