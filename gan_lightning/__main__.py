from gan_lightning.cli import main

main()
